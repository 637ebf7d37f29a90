package dev.bss.train.data;

/**
 * The data could not be obtained (a download failed or its checksum did not match); the message is one line saying
 * what failed and how to point at local files instead.
 */
public final class DataException extends RuntimeException {

  public DataException(String message) {
    super(message);
  }

  public DataException(String message, Throwable cause) {
    super(message, cause);
  }
}
