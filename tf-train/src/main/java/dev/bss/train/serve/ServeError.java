package dev.bss.train.serve;

/** An error answered as TensorFlow Serving answers it: an HTTP status and {@code {"error": "<message>"}}. */
public final class ServeError extends RuntimeException {

  private final int status;

  public ServeError(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The HTTP status: 400 for a bad request (TF's INVALID_ARGUMENT), 404 for an unknown model, ... */
  public int status() {
    return status;
  }

  /** A 400 (INVALID_ARGUMENT). */
  public static ServeError badRequest(String message) {
    return new ServeError(400, message);
  }
}
