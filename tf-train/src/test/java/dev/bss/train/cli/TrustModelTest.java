package dev.bss.train.cli;

import static dev.bss.train.cli.BssRun.bss;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bss.interop.numpy.Npy;
import dev.bss.model.Weight;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every command that opens a model refuses a SavedModel that writes a file, unless --trust-model is given. */
class TrustModelTest {

  @TempDir Path tmp;

  private static void assertRefused(BssRun r) {
    assertEquals(2, r.exit(), r.err());
    assertTrue(r.err().contains("refusing to run op WriteFile") && r.err().contains("--trust-model"), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }

  @Test
  void hostileSavedModelIsRefusedEverywhereAndRunsWhenTrusted() throws IOException {
    Path target = tmp.resolve("pwned.txt");
    Path model = HostileSavedModel.write(tmp.resolve("hostile"), target);
    Path inputs = tmp.resolve("inputs.npy");
    Npy.writeFloats(inputs, new Weight(new long[] {2, 32, 32, 1}, new float[2 * 1024]));
    String m = model.toString();
    Path out = tmp.resolve("out");
    assertRefused(bss("separate", "--model", m, "--npy", inputs.toString(), "--out", out.toString()));
    assertRefused(bss("compare", "--model", m, "--inputs", inputs.toString(), "--expected", inputs.toString(),
        inputs.toString()));
    assertRefused(bss("evaluate", "--model", m, "--draws", "1", "--samples", "10", "--data", "embedded"));
    assertRefused(bss("import", m, "--to", tmp.resolve("imported").toString()));
    assertRefused(bss("export", m, "--format", "npz", "--out", tmp.resolve("exported").toString()));
    assertFalse(Files.exists(target), "the hostile op ran");
    assertFalse(Files.exists(out));

    BssRun trusted = bss("separate", "--model", m, "--npy", inputs.toString(), "--out", out.toString(),
        "--trust-model");
    assertEquals(0, trusted.exit(), trusted.err());
    assertEquals("written by a SavedModel", Files.readString(target));
  }
}
