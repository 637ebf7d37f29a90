package dev.bss.train.cli;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * A {@link PrintStream} onto a command's {@link PrintWriter} ({@code spec.commandLine().getOut()}), for code below
 * the CLI that prints to a stream (training's progress and log): every command's output then goes through its
 * command spec, which is what a test (or an embedding program) redirects.
 */
final class WriterStream extends OutputStream {

  private final PrintWriter writer;
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

  private WriterStream(PrintWriter writer) {
    this.writer = writer;
  }

  /** A UTF-8 stream that hands its text to {@code writer} on every flush (and every line: auto-flush). */
  static PrintStream of(PrintWriter writer) {
    return new PrintStream(new WriterStream(writer), true, StandardCharsets.UTF_8);
  }

  @Override
  public synchronized void write(int b) {
    pending.write(b);
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    pending.write(b, off, len);
  }

  @Override
  public synchronized void flush() {
    // PrintStream encodes a whole string before it flushes, so a flush never splits a character.
    writer.write(pending.toString(StandardCharsets.UTF_8));
    pending.reset();
    writer.flush();
  }

  @Override
  public void close() {
    flush();
  }
}
