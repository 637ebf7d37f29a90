package dev.bss.train.cli;

import dev.bss.interop.ModelFormat;
import dev.bss.interop.ModelFiles;
import dev.bss.train.loop.Devices;
import dev.bss.train.serve.SavedModelServed;
import dev.bss.train.serve.SeparatorServed;
import dev.bss.train.serve.ServeServer;
import dev.bss.train.serve.ServedModel;
import dev.bss.interop.Separators;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code bss serve}: a model behind TensorFlow Serving's REST API, with dynamic batching. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Serves a model over HTTP with TensorFlow Serving's REST API v1: GET /v1/models/NAME, "
          + "GET /v1/models/NAME/metadata, POST /v1/models/NAME:predict (row and columnar formats). For the "
          + "separation network also POST /v1/separate (a PNG in, both images out) and a web page at /. "
          + "GET /healthz, GET /metrics (Prometheus). SIGTERM or Ctrl-C stops after the requests in flight.",
      "--model: any model bss reads; a SavedModel of any architecture is served through its signatures."})
public final class ServeCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, description = "run folder, checkpoint directory or any model file "
      + "bss reads (a SavedModel of any architecture)") Path model;
  @Option(names = "--name", description = "model name in the URLs (default: bss for our network, else the "
      + "SavedModel folder's name)") String name;
  @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to listen on (default 127.0.0.1; "
      + "0.0.0.0 for every interface)") String host;
  @Option(names = "--port", defaultValue = "8501", description = "port (default 8501, TF Serving's REST port; 0: a "
      + "free one)") int port;
  @Option(names = "--max-batch", defaultValue = "64", description = "most rows merged into one run (default 64; 1 "
      + "turns batching off)") int maxBatch;
  @Option(names = "--batch-timeout-ms", defaultValue = "2", description = "how long a batch waits for more "
      + "requests (default 2)") double batchTimeoutMs;
  @Option(names = "--batch-threads", defaultValue = "1", description = "threads running batches (default 1)")
  int batchThreads;
  @Option(names = "--max-body-bytes", defaultValue = "16777216", description = "largest request body (default 16 "
      + "MiB; 413 beyond)") long maxBodyBytes;
  @Option(names = "--request-timeout-ms", defaultValue = "30000", description = "longest a request waits for its "
      + "result (default 30000; 504 beyond)") long requestTimeoutMs;
  @Option(names = "--device", defaultValue = "auto", description = "cpu, gpu or auto") String device;
  @Option(names = "--threads", description = "intra-op threads (default: available processors)") Integer threads;
  @Mixin ModelFileOptions modelOptions;

  @Override
  public Integer call() throws InterruptedException {
    if (!Files.exists(model)) {
      throw new Cli.UserException("--model " + model + ": no such file or directory");
    }
    if (port < 0 || port > 65535) {
      throw new Cli.UserException("--port: expected 0..65535, found " + port);
    }
    if (maxBatch < 1 || maxBatch > 1_000_000) {
      throw new Cli.UserException("--max-batch: expected 1..1000000, found " + maxBatch);
    }
    if (!(batchTimeoutMs >= 0 && batchTimeoutMs <= 60_000)) {
      throw new Cli.UserException("--batch-timeout-ms: expected 0..60000, found " + batchTimeoutMs);
    }
    if (batchThreads < 1 || batchThreads > 64) {
      throw new Cli.UserException("--batch-threads: expected 1..64, found " + batchThreads);
    }
    if (maxBodyBytes < 1024 || maxBodyBytes > (1L << 30)) {
      throw new Cli.UserException("--max-body-bytes: expected 1024..1073741824, found " + maxBodyBytes);
    }
    if (requestTimeoutMs < 1) {
      throw new Cli.UserException("--request-timeout-ms: expected >= 1, found " + requestTimeoutMs);
    }
    if (threads != null && threads < 1) {
      throw new Cli.UserException("--threads: expected >= 1, found " + threads);
    }
    Devices.Choice choice = Devices.choose(device, threads != null ? threads : Runtime.getRuntime().availableProcessors());
    ModelFormat format = ModelFiles.detect(model);
    boolean savedModel = format == ModelFormat.SAVED_MODEL;
    String modelName = name != null ? name : savedModel ? model.toAbsolutePath().normalize().getFileName().toString()
        : "bss";
    if (!modelName.matches("[A-Za-z0-9._-]+")) {
      throw new Cli.UserException("--name: expected letters, digits, '.', '_' or '-', found '" + modelName + "'");
    }
    PrintWriter out = spec.commandLine().getOut();
    ServedModel served = savedModel ? new SavedModelServed(model, choice.config(), modelOptions.trustModel)
        : new SeparatorServed(Separators.open(format, model, modelOptions.configOverride(), modelOptions.posEmbedding,
            choice.config(), modelOptions.trustModel));
    ServeServer server;
    try {
      server = new ServeServer(served, new ServeServer.Options(modelName, host, port, maxBatch,
          Math.round(batchTimeoutMs * 1000), batchThreads, maxBodyBytes, requestTimeoutMs));
    } catch (UncheckedIOException e) {
      served.close();
      throw new Cli.UserException("--host/--port: " + e.getCause().getMessage());
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      server.close();
      served.close();
      out.println("bss serve: stopped (requests in flight finished)");
      out.flush();
      stopped.countDown();
    }, "bss-serve-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    String base = server.uri().toString();
    out.println("bss serve: model '" + modelName + "' (" + served.description() + ") at " + base + "v1/models/"
        + modelName + ":predict (TF Serving REST API)" + (served.separates() ? ", page " + base + ", " + base
        + "v1/separate" : "") + ", " + base + "metrics; max batch " + maxBatch + ", batch timeout " + batchTimeoutMs
        + " ms; SIGTERM or Ctrl-C stops");
    out.flush();
    server.join();
    // Stopped by the hook (SIGTERM) or by a test: wait for the model to be closed, then leave.
    boolean hookPending;
    try {
      hookPending = Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      hookPending = false;
    }
    if (hookPending) {
      hook.run();
    }
    stopped.await();
    return 0;
  }
}
