package scan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/secret"
)

func fakeScan(secrets bool, got *discover.Options) func(context.Context, discover.Options) (*discover.Result, error) {
	return func(_ context.Context, o discover.Options) (*discover.Result, error) {
		*got = o
		res := &discover.Result{SchemaVersion: discover.SchemaVersion, Roots: o.Paths}
		if secrets {
			res.Findings = []discover.Finding{{Kind: discover.KindEnvFile, Repo: ".", Path: ".env", Line: 1, Key: "K",
				Classification: discover.ClassSecret, Value: secret.New("value-never-printed")}}
			res.Stats.Secrets = 1
		}
		return res, nil
	}
}

func execute(t *testing.T, scan func(context.Context, discover.Options) (*discover.Result, error), args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv(secret.KeyEnv, "0123456789abcdef0123")
	ios, _, out, errOut := cli.Test()
	cmd := NewCmd(ios)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	// Inject the fake through the command's options.
	orig := cmd.RunE
	cmd.RunE = func(c *cobra.Command, a []string) error {
		testScanHook = scan
		defer func() { testScanHook = nil }()
		return orig(c, a)
	}
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		if ee, ok := err.(*cli.ExitError); !ok || ee.Err != nil {
			errOut.WriteString(err.Error())
		}
	}
	return cli.Code(err), out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	var o discover.Options
	code, out, _ := execute(t, fakeScan(false, &o))
	if code != cli.ExitOK || !strings.Contains(out, "No secrets found") {
		t.Errorf("no secrets: code %d, out %q", code, out)
	}
	if len(o.Paths) != 1 || o.Paths[0] != "." || o.Fingerprinter == nil || o.MaxFileSize != 10<<20 {
		t.Errorf("options = %+v", o)
	}
	code, out, _ = execute(t, fakeScan(true, &o), "--format", "json", "a", "b")
	if code != cli.ExitFound || !strings.Contains(out, `"schema_version": 1`) || strings.Contains(out, "value-never-printed") {
		t.Errorf("secrets: code %d, out %q", code, out)
	}
	if strings.Join(o.Paths, ",") != "a,b" {
		t.Errorf("paths = %v", o.Paths)
	}
	code, _, errOut := execute(t, fakeScan(true, &o), "--format", "xml")
	if code != cli.ExitFailure || !strings.Contains(errOut, `unknown format "xml"`) {
		t.Errorf("bad format: code %d, err %q", code, errOut)
	}
	code, _, errOut = execute(t, fakeScan(true, &o), "--max-file-size", "lots")
	if code != cli.ExitFailure || !strings.Contains(errOut, "--max-file-size") {
		t.Errorf("bad size: code %d, err %q", code, errOut)
	}
	code, _, _ = execute(t, nil, filepath.Join(t.TempDir(), "missing"))
	if code != cli.ExitFailure {
		t.Errorf("missing path: code %d", code)
	}
}

func TestFlags(t *testing.T) {
	var o discover.Options
	execute(t, fakeScan(false, &o), "--max-file-size", "2MiB", "--skip-dir", "a,b", "--skip-dir", "c", "--no-history")
	if o.MaxFileSize != 2<<20 || strings.Join(o.SkipDirs, ",") != "a,b,c" || !o.SkipHistory {
		t.Errorf("options = %+v", o)
	}
	execute(t, fakeScan(false, &o), "--skip-dir=")
	if o.SkipDirs == nil || len(o.SkipDirs) != 0 {
		t.Errorf("--skip-dir= should skip nothing, got %#v", o.SkipDirs)
	}
}

func TestOutputFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r.sarif")
	var o discover.Options
	code, stdout, stderr := execute(t, fakeScan(true, &o), "--format", "sarif", "-o", out)
	if code != cli.ExitFound || stdout != "" || !strings.Contains(stderr, "Wrote the sarif report to") {
		t.Fatalf("code %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), `"version": "2.1.0"`) {
		t.Fatalf("report: %v\n%s", err, b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	code, _, stderr = execute(t, fakeScan(true, &o), "-o", filepath.Join(dir, "no", "such", "dir", "r.txt"))
	if code != cli.ExitFailure || !strings.Contains(stderr, "writing") {
		t.Errorf("unwritable output: code %d, err %q", code, stderr)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "10MiB": 10 << 20, "512 KiB": 512 << 10, "1g": 1 << 30, "7B": 7} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1.5MiB", "ten", "10XB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) should fail", in)
		}
	}
}
