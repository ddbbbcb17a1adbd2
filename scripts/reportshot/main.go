// Command reportshot renders a run directory's HTML report exactly as
// `coldstart report --format html RUN_DIR` does and saves a PNG screenshot
// of it taken by a headless Chromium (the README's docs/report.png):
//
//	go run ./scripts/reportshot [-o docs/report.png] [-width 1280] [-height 1500] [-selector CSS] RUN_DIR
//
// Given a PAGE.html instead of a run directory it screenshots that page.
//
// Chromium is driven through chromedp; it lives here, not in the harness
// binary. The browser is $CHROMIUM or the first of chromium,
// chromium-browser, google-chrome on PATH.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/coldstart/coldstart/harness/cli"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "reportshot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reportshot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "docs/report.png", "PNG to write")
	width := fs.Int("width", 1280, "viewport width in CSS pixels")
	height := fs.Int("height", 1500, "height of the top of the page to capture, in CSS pixels")
	selector := fs.String("selector", "", "capture only the first element matching this CSS selector")
	htmlOut := fs.String("html", "", "also keep the rendered page at this path")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: reportshot [flags] RUN_DIR|PAGE.html")
	}
	var page, errb bytes.Buffer
	if strings.HasSuffix(fs.Arg(0), ".html") { // a page rendered already, e.g. a test artefact
		b, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		page.Write(b)
	} else if err := cli.Run(ctx, []string{"report", "--format", "html", fs.Arg(0)}, &page, &errb); err != nil {
		return fmt.Errorf("coldstart report: %w: %s", err, errb.String())
	}
	dir, err := os.MkdirTemp("", "reportshot-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "report.html")
	if *htmlOut != "" {
		file, _ = filepath.Abs(*htmlOut)
	}
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		return err
	}
	bin, err := browser()
	if err != nil {
		return err
	}
	actx, cancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(*width, *height))...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(int64(*width), int64(*height)), chromedp.Navigate("file://"+file)); err != nil {
		return fmt.Errorf("chromium %s: %w", bin, err)
	}
	shot := chromedp.CaptureScreenshot()
	if *selector != "" {
		shot = chromedp.Screenshot(chromedp.CSS(*selector))
	}
	png, err := chromedp.Run(bctx, shot)
	if err != nil {
		return fmt.Errorf("chromium %s: %w", bin, err)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(*out, png, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d bytes (%s, %dx%d)\n", *out, len(png), filepath.Base(bin), *width, *height)
	return nil
}

func browser() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on PATH (apt-get install chromium, or set CHROMIUM)")
}
