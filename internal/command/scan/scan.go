// Package scan implements the `env2vault scan` command.
package scan

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/discover/report"
	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/secret"
)

// Options are the scan command's settings.
type Options struct {
	IO *cli.IOStreams
	// Paths are the folders to scan (default ".").
	Paths []string
	// Format is text, json, sarif or markdown.
	Format string
	// Output is a file to write the report to instead of stdout.
	Output string
	// MaxFileSize is the largest file read, in bytes.
	MaxFileSize int64
	// SkipDirs are folder names not entered.
	SkipDirs []string
	// NoHistory skips the git history search.
	NoHistory bool
	// NoProgress turns the progress line off.
	NoProgress bool
	// Version is recorded in SARIF output.
	Version string

	// Scan replaces discover.Scan in tests.
	Scan func(ctx context.Context, opts discover.Options) (*discover.Result, error)
}

// testScanHook replaces discover.Scan in this package's tests.
var testScanHook func(ctx context.Context, opts discover.Options) (*discover.Result, error)

// NewCmd returns the `scan` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	var maxSize string
	cmd := &cobra.Command{
		Use:   "scan [flags] PATH...",
		Short: "Find secrets in .env files, hardcoded keys and git history",
		Long: `Scan walks each PATH (default ".") — a repository, or a folder holding
repositories at any depth — and reports:

  - every entry of every .env file (.env, .env.*, *.env and files named by
    docker compose env_file:), classified as secret, config or placeholder;
  - keys written into source, compose files, CI workflows, Dockerfiles,
    Kubernetes Secret manifests and browser code;
  - where code reads environment variables (Go, Python, JavaScript,
    TypeScript), and which keys are defined but never read or read but
    never defined;
  - for each secret, whether its file is tracked by git and whether the
    value ever entered the repository's git history, and which .env files
    were ever committed.

.gitignore is not honoured (ignored .env files are the point). Folders named
node_modules, vendor, .venv, venv, dist, build and __pycache__ are skipped
(--skip-dir replaces the list). Findings listed in a repository's
.env2vaultignore or .gitleaksignore are not reported.

No output ever holds a secret value: findings carry a keyed fingerprint
(ENV2VAULT_FINGERPRINT_KEY, or a per-user key file) and at most a known
provider prefix such as "sk_live_…".

Exit status: 0 when no secrets are found, 1 when secrets are found, 2 on
errors — including an incomplete scan: a malformed .env file, a file or
folder that could not be read, git history that could not be searched, or
an .env file skipped as binary, too large or not a regular file. The report
is still written in full and lists every skipped path; stderr names them.`,
		Example: `  env2vault scan ~/src/acme
  env2vault scan --format sarif -o env2vault.sarif .
  env2vault scan --format json --no-history services/ | jq '.findings[]'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if len(opts.Paths) == 0 {
				opts.Paths = []string{"."}
			}
			n, err := parseSize(maxSize)
			if err != nil {
				return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("--max-file-size: %w", err)}
			}
			opts.MaxFileSize = n
			opts.Version = cmd.Root().Version
			return run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", "text", "output format: text, json, sarif or markdown")
	f.StringVarP(&opts.Output, "output", "o", "", "write the report to `FILE` (atomically) instead of stdout")
	f.StringVar(&maxSize, "max-file-size", "10MiB", "skip files larger than `SIZE` (bytes, or with KiB/MiB/GiB)")
	f.StringSliceVar(&opts.SkipDirs, "skip-dir", discover.DefaultSkipDirs, "folder `NAME`s not to enter (repeat or comma-separate; --skip-dir= enters all)")
	f.BoolVar(&opts.NoHistory, "no-history", false, "do not search git history for the secret values found")
	f.BoolVar(&opts.NoProgress, "no-progress", false, "do not show progress on stderr")
	return cmd
}

// parseSize reads "1048576", "512KiB", "10MiB", "1GiB" (KB/MB/GB mean the
// same powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	upper := strings.ToUpper(t)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(upper, u.suffix) {
			mult = u.m
			t = strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	var n int64
	if _, err := fmt.Sscanf(t, "%d", &n); err != nil || fmt.Sprint(n) != t || n <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 10MiB", s)
	}
	return n * mult, nil
}

func run(ctx context.Context, opts *Options) error {
	ios := opts.IO
	format, err := report.ParseFormat(opts.Format)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	fp, err := secret.LoadFingerprinter()
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	scan := opts.Scan
	if scan == nil {
		scan = testScanHook
	}
	if scan == nil {
		scan = discover.Scan
	}
	skipDirs := []string{}
	for _, d := range opts.SkipDirs {
		if d = strings.TrimSpace(d); d != "" {
			skipDirs = append(skipDirs, d)
		}
	}
	sopts := discover.Options{
		Paths:         opts.Paths,
		MaxFileSize:   opts.MaxFileSize,
		SkipDirs:      skipDirs,
		SkipHistory:   opts.NoHistory,
		Fingerprinter: fp,
	}
	var spin *spinner
	if ios.ErrTTY && !opts.NoProgress {
		spin = &spinner{w: ios.ErrOut}
		sopts.Progress = spin.update
	}
	res, err := scan(ctx, sopts)
	spin.clear()
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}

	ropts := report.Options{Color: ios.Color && opts.Output == "", Version: opts.Version}
	if opts.Output == "" {
		if err := report.Write(ios.Out, res, format, ropts); err != nil {
			return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("writing the report: %w", err)}
		}
	} else {
		if err := writeFileAtomic(opts.Output, func(w io.Writer) error { return report.Write(w, res, format, ropts) }); err != nil {
			return &cli.ExitError{Code: cli.ExitFailure, Err: err}
		}
		fmt.Fprintf(ios.ErrOut, "Wrote the %s report to %s (%s).\n", format, opts.Output, summary(res))
	}
	warnDuplicates(ios.ErrOut, res)
	// A file that may hold secrets and could not be read makes the scan
	// fail, even with secrets found: a clean-looking result must not hide
	// a malformed or unreadable .env file.
	if err := res.IncompleteError(); err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	if res.HasSecrets() {
		return cli.Exit(cli.ExitFound)
	}
	return nil
}

// warnDuplicates prints a warning for every key an .env file assigns
// more than once (programs read the last assignment; every one is
// reported).
func warnDuplicates(w io.Writer, res *discover.Result) {
	type key struct{ root, repo, path, key string }
	lines := map[key][]int{}
	var order []key
	for _, f := range res.Findings {
		if f.Kind != discover.KindEnvFile || f.Key == "" {
			continue
		}
		k := key{f.Root, f.Repo, f.Path, f.Key}
		if lines[k] == nil {
			order = append(order, k)
		}
		lines[k] = append(lines[k], f.Line)
	}
	for _, k := range order {
		ls := lines[k]
		if len(ls) < 2 {
			continue
		}
		where := k.path
		if k.repo != "" && k.repo != "." {
			where = k.repo + "/" + k.path
		}
		nums := make([]string, len(ls))
		for i, l := range ls {
			nums[i] = fmt.Sprint(l)
		}
		fmt.Fprintf(w, "warning: %s assigns %s %d times (lines %s); programs read the last one\n", where, k.key, len(ls), strings.Join(nums, ", "))
	}
}

func summary(res *discover.Result) string {
	if res.Stats.Secrets == 1 {
		return "1 secret"
	}
	return fmt.Sprintf("%d secrets", res.Stats.Secrets)
}

// writeFileAtomic writes a file through a temporary file in the same
// folder and renames it into place, so a reader never sees half a report.
func writeFileAtomic(name string, write func(io.Writer) error) error {
	dir := filepath.Dir(name)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	ok = true
	return nil
}

// spinner draws a one-line progress indicator on a terminal.
type spinner struct {
	mu    sync.Mutex
	w     io.Writer
	frame int
	drawn bool
}

var frames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (s *spinner) update(p discover.Progress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Phase == "done" {
		return
	}
	what := fmt.Sprintf("scanning: %d files, %.1f MB, %d repos, %d secrets", p.Files, float64(p.Bytes)/1e6, p.Repos, p.Secrets)
	if p.Phase == "history" {
		what = fmt.Sprintf("searching git history of %d repos for %d secrets", p.Repos, p.Secrets)
	}
	fmt.Fprintf(s.w, "\r\x1b[K%s %s", frames[s.frame%len(frames)], what)
	s.frame++
	s.drawn = true
}

func (s *spinner) clear() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drawn {
		fmt.Fprint(s.w, "\r\x1b[K")
	}
}
