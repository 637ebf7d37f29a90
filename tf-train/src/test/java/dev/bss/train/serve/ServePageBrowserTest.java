package dev.bss.train.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bss.interop.Separators;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The page at {@code /} in a real headless Chromium (Debian's chromium and chromium-driver, driven by Selenium with
 * {@code /usr/bin/chromedriver}; no Selenium Manager download): pick a sample mixture, then upload one, and see both
 * separated images. Without Chromium the test is skipped with a message, except in CI ({@code CI=true}), where it
 * fails ({@code .ci/run} installs the packages).
 */
class ServePageBrowserTest {

  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private static ServedModel model;
  private static ServeServer server;
  private static WebDriver driver;

  @TempDir static Path tmp;

  @BeforeAll
  static void start() {
    boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    if (!present && "true".equalsIgnoreCase(System.getenv("CI"))) {
      fail("CI=true but " + CHROMIUM + " or " + CHROMEDRIVER + " is missing (apt-get install chromium "
          + "chromium-driver; .ci/run does it)");
    }
    assumeTrue(present, "browser test skipped: " + CHROMIUM + " and " + CHROMEDRIVER + " not installed (Debian "
        + "packages chromium and chromium-driver; CI installs them)");
    model = new SeparatorServed(Separators.open(ServeFixtures.tinyKeras()));
    server = new ServeServer(model, ServeFixtures.options("tiny", 64, 2_000));
    // No Selenium Manager: the driver binary is given, and the browser binary too.
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--user-data-dir=" + tmp.resolve("profile"));
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort().build();
    driver = new ChromeDriver(service, options);
  }

  @AfterAll
  static void stop() {
    if (driver != null) {
      driver.quit();
    }
    if (server != null) {
      server.close();
      model.close();
    }
  }

  private static long naturalWidth(String id) {
    Object w = ((JavascriptExecutor) driver).executeScript(
        "const i = document.getElementById(arguments[0]); return i.complete ? i.naturalWidth : 0;", id);
    return ((Number) w).longValue();
  }

  private static void waitForResult(String previous) {
    new WebDriverWait(driver, Duration.ofSeconds(30)).until(d -> {
      String src = d.findElement(By.id("decoded2")).getAttribute("src");
      return src != null && src.startsWith("data:image/png;base64,") && !src.equals(previous)
          && naturalWidth("decoded2") == 32 && naturalWidth("decoded1") == 32;
    });
  }

  @Test
  void pickAndUploadShowBothImages() throws Exception {
    driver.get(server.uri().toString());
    assertTrue(driver.getTitle().contains("tiny"), driver.getTitle());
    List<WebElement> samples = new WebDriverWait(driver, Duration.ofSeconds(30)).until(d -> {
      List<WebElement> s = d.findElements(By.cssSelector("#samples img.sample"));
      return s.size() == 8 ? s : null;
    });
    samples.get(2).click();
    waitForResult(null);
    assertEquals("separated", driver.findElement(By.id("status")).getText());
    assertEquals(32, naturalWidth("mixture"));
    String picked = driver.findElement(By.id("decoded2")).getAttribute("src");

    // Upload a different mixture (28x28, padded by the server).
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(28, 28,
        java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        img.getRaster().setSample(x, y, 0, (x * 9 + y * 5) % 256);
      }
    }
    Path file = tmp.resolve("upload.png");
    javax.imageio.ImageIO.write(img, "png", file.toFile());
    driver.findElement(By.id("upload")).sendKeys(file.toString());
    waitForResult(picked);
    assertEquals("separated", driver.findElement(By.id("status")).getText());

    // A file that is not a PNG: the page shows the server's error line.
    Path junk = tmp.resolve("junk.png");
    Files.writeString(junk, "not a png");
    driver.findElement(By.id("upload")).sendKeys(junk.toString());
    new WebDriverWait(driver, Duration.ofSeconds(30)).until(d -> d.findElement(By.id("status")).getText()
        .startsWith("error: body: expected a PNG"));
  }
}
