package batch

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/pflag"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/internal/vaulttest"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/secret"
)

func TestDecodeConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    Config
		wantErr string
	}{
		{name: "empty", yaml: ""},
		{
			name: "every key",
			yaml: "backend: vault\nvault_mount: kv\nkv_version: 1\ngcp_project: p\naws_region: eu-west-1\n" +
				"env_map:\n  .env.qa: staging\nconcurrency: 3\nlanguages: [go, python]\nout: reports\n",
			want: Config{Backend: "vault", VaultMount: "kv", KVVersion: 1, GCPProject: "p", AWSRegion: "eu-west-1",
				EnvMap: map[string]string{".env.qa": "staging"}, Concurrency: 3, Languages: []string{"go", "python"}, Out: "reports"},
		},
		{name: "unknown key", yaml: "backend: vault\nvault_path: x\n", wantErr: `field vault_path not found (known keys: backend,`},
		{name: "wrong type", yaml: "kv_version: two\n", wantErr: "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeConfig([]byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equalConfig(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func equalConfig(a, b Config) bool { return cmp.Equal(a, b, cmpopts.EquateEmpty()) }

// TestSettingsPrecedence: defaults < config file < flags.
func TestSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "ci.yaml")
	if err := os.WriteFile(cfgFile, []byte("vault_mount: fromfile\nkv_version: 1\nout: fileout\nlanguages: [ts]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := NewCmd(&cli.IOStreams{})
	if err := cmd.ParseFlags([]string{"--config", cfgFile, "--out", "flagout", "--env-map", ".env.qa=staging"}); err != nil {
		t.Fatal(err)
	}
	opts := &Options{ConfigFile: cfgFile, Flags: Config{Out: "flagout"}, EnvMap: ".env.qa=staging"}
	got, err := settings(opts, cmd.Flags())
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Backend: "vault", VaultMount: "fromfile", KVVersion: 1, Out: "flagout",
		Languages: []string{"javascript"}, EnvMap: map[string]string{".env.qa": "staging"}}
	if !equalConfig(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestSettingsErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, file, want string
	}{
		{"missing explicit file", filepath.Join(dir, "nope.yaml"), "reading the config file"},
		{"bad backend", write("b.yaml", "backend: azure\n"), `unknown backend "azure"`},
		{"gcp without project", write("g.yaml", "backend: gcp\n"), "needs gcp_project"},
		{"aws without region", write("a.yaml", "backend: aws\n"), "needs aws_region"},
		{"bad kv", write("k.yaml", "kv_version: 3\n"), "kv_version must be 1 or 2"},
		{"bad language", write("l.yaml", "languages: [cobol]\n"), "languages:"},
		{"typo", write("t.yaml", "concurency: 2\n"), "field concurency not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := settings(&Options{ConfigFile: tt.file}, pflag.NewFlagSet("x", pflag.ContinueOnError))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// runBatch runs the command as the CLI would and returns the exit code,
// stdout and stderr.
func runBatch(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := cli.Test()
	cmd := NewCmd(ios)
	cmd.SetArgs(args)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	var ee *cli.ExitError
	if err != nil && errors.As(err, &ee) && ee.Err != nil {
		errOut.WriteString("env2vault: " + ee.Err.Error() + "\n")
	}
	return cli.Code(err), out.String(), errOut.String()
}

func TestRefusesWithoutYes(t *testing.T) {
	dir := t.TempDir()
	outDir := filepath.Join(dir, "out")
	code, _, stderr := runBatch(t, "--out", outDir, dir)
	if code != cli.ExitFailure || !strings.Contains(stderr, "pass --yes") {
		t.Fatalf("exit %d, stderr %q: want 2 and a clear refusal", code, stderr)
	}
	if _, err := os.Stat(outDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused run wrote the output folder")
	}
	code, _, stderr = runBatch(t, "--dry-run", "--yes", dir)
	if code != cli.ExitFailure || !strings.Contains(stderr, "contradict") {
		t.Fatalf("exit %d, stderr %q: want 2 for --dry-run with --yes", code, stderr)
	}
	code, _, stderr = runBatch(t, "--dry-run", filepath.Join(dir, "missing"))
	if code != cli.ExitFailure || !strings.Contains(stderr, "is not a folder") {
		t.Fatalf("exit %d, stderr %q: want 2 for a missing folder", code, stderr)
	}
}

// setFingerprintKey keeps tests away from the user's key file.
func setFingerprintKey(t *testing.T) {
	t.Setenv(secret.KeyEnv, "batch-test-fingerprint-key-0123456789")
}

func TestNothingFound(t *testing.T) {
	setFingerprintKey(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBatch(t, "--yes", "--out", filepath.Join(dir, "out"), dir)
	if code != cli.ExitOK {
		t.Fatalf("exit %d, want 0 (nothing found); stderr:\n%s", code, stderr)
	}
}

// wantFiles are the files every run writes into --out.
var wantFiles = []string{"plan.yaml", "scan.json", "scan.sarif", "report.md", "report.json", "report.html",
	"checklist-inventory.md", "checklist-planning.md", "checklist-implementation.md", "checklist-rollout.md"}

// checkOut asserts every report exists and no planted value is in any
// file of out or in the progress lines.
func checkOut(t *testing.T, m sampleorg.Manifest, out, stderr string, extra ...string) {
	t.Helper()
	for _, f := range append(slices.Clone(wantFiles), extra...) {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty in --out: %v", f, err)
		}
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	planted := m.Planted()
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range planted {
			if strings.Contains(string(b), v) {
				t.Errorf("%s holds a planted secret value", e.Name())
				break
			}
		}
	}
	for _, v := range planted {
		if strings.Contains(stderr, v) {
			t.Fatal("the progress output holds a planted secret value")
		}
	}
}

// progressLines parses the JSON progress lines on stderr.
func progressLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "env2vault: ") { // the final error, as the CLI prints it
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("stderr line %q is not JSON: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

func hasEvent(lines []map[string]any, stage, event string) bool {
	for _, l := range lines {
		if l["stage"] == stage && l["event"] == event {
			return true
		}
	}
	return false
}

// TestDryRunOffline runs a dry run over the sample org with the backend
// unreachable: every report is written, the plan says offline, no value
// leaks, exit 1.
func TestDryRunOffline(t *testing.T) {
	setFingerprintKey(t)
	m, err := sampleorg.Build(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	opts := &Options{IO: nil, Paths: []string{m.Dir}, DryRun: true, Flags: Config{Out: out}}
	ios, _, _, errOut := cli.Test()
	opts.IO = ios
	opts.stages.Open = func(ctx context.Context, b plan.Backend, o migrate.Options) (migrate.Backend, error) {
		return nil, errors.New("connection refused")
	}
	err = Run(context.Background(), opts, nil)
	if code := cli.Code(err); code != cli.ExitFound {
		t.Fatalf("exit %d (%v), want 1; stderr:\n%s", code, err, errOut)
	}
	checkOut(t, m, out, errOut.String())
	lines := progressLines(t, errOut.String())
	for _, want := range [][2]string{{"scan", "done"}, {"plan", "done"}, {"diff", "skipped"}, {"reports", "done"}, {"batch", "exit"}} {
		if !hasEvent(lines, want[0], want[1]) {
			t.Errorf("no %s/%s progress line in:\n%s", want[0], want[1], errOut)
		}
	}
	p, err := plan.Load(filepath.Join(out, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.DiffStatus, "offline") || len(p.Secrets) == 0 {
		t.Fatalf("plan diff status %q with %d secrets: want offline and some secrets", p.DiffStatus, len(p.Secrets))
	}
}

// treeDigest hashes every file under dir (but .git and skip), so a test
// can tell whether a run changed the working tree.
func treeDigest(t *testing.T, dir, skip string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || p == skip) {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %x\n", p, sha256.Sum256(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestBatchAgainstVault runs batch over the sample org against the real
// Vault dev server: a dry run writes every report and nothing else; a
// --yes run migrates (exit 4); a rerun writes nothing new.
func TestBatchAgainstVault(t *testing.T) {
	env := vaulttest.Server(t)
	env.Setenv(t)
	setFingerprintKey(t)
	ctx := context.Background()
	org, err := sampleorg.Build(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	fp, err := secret.LoadFingerprinter()
	if err != nil {
		t.Fatal(err)
	}

	// 1. Dry run: exit 1, every report, a live diff, nothing written.
	before := treeDigest(t, org.Dir, out)
	code, _, stderr := runBatch(t, "--dry-run", "--vault-mount", env.KV2, "--out", out, org.Dir)
	if code != cli.ExitFound {
		t.Fatalf("dry run exit %d, want 1; stderr:\n%s", code, stderr)
	}
	checkOut(t, org, out, stderr)
	if treeDigest(t, org.Dir, out) != before {
		t.Fatal("the dry run changed the working tree")
	}
	p, err := plan.Load(filepath.Join(out, FilePlan))
	if err != nil {
		t.Fatal(err)
	}
	if p.DiffStatus != "live" || len(p.Secrets) == 0 {
		t.Fatalf("dry-run plan: diff %q, %d secrets; want a live diff of some secrets", p.DiffStatus, len(p.Secrets))
	}
	be, err := migrate.Open(ctx, p.Backend, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Secrets {
		if s.Action != plan.ActionCreate {
			t.Errorf("%s: dry-run action %q on an empty mount, want create", s.Name, s.Action)
		}
		if cur, err := be.Get(ctx, s.Target); err != nil || cur.Exists {
			t.Fatalf("%s: the dry run wrote to the vault (exists=%v, err=%v)", s.Name, cur.Exists, err)
		}
	}

	// 2. --yes: exit 4, every secret in the vault, the tree rewritten.
	code, _, stderr = runBatch(t, "--yes", "--vault-mount", env.KV2, "--out", out, org.Dir)
	if code != cli.ExitMigrated {
		t.Fatalf("--yes exit %d, want 4; stderr:\n%s", code, stderr)
	}
	checkOut(t, org, out, stderr, FileRewriteDiff, FileVerifyJSON)
	lines := progressLines(t, stderr)
	for _, want := range [][2]string{{"migrate", "done"}, {"rewrite", "done"}, {"verify", "done"}} {
		if !hasEvent(lines, want[0], want[1]) {
			t.Errorf("no %s/%s progress line", want[0], want[1])
		}
	}
	versions := map[string]string{}
	for _, s := range p.Secrets {
		cur, err := be.Get(ctx, s.Target)
		if err != nil {
			t.Fatal(err)
		}
		if !cur.Exists || !fp.Matches(cur.Value, s.Fingerprint) {
			t.Errorf("%s is not in the vault with the planned value", s.Name)
		}
		versions[s.Name] = cur.Version
	}
	if treeDigest(t, org.Dir, out) == before {
		t.Fatal("the --yes run rewrote nothing")
	}

	// 3. Rerun: nothing new is written anywhere.
	after := treeDigest(t, org.Dir, out)
	code, _, stderr = runBatch(t, "--yes", "--vault-mount", env.KV2, "--out", out, org.Dir)
	if code != cli.ExitMigrated && code != cli.ExitOK {
		t.Fatalf("rerun exit %d, want 4 or 0; stderr:\n%s", code, stderr)
	}
	for _, l := range progressLines(t, stderr) {
		if l["stage"] == "migrate" && l["event"] == "done" && (l["created"] != float64(0) || l["updated"] != float64(0)) {
			t.Errorf("the rerun wrote to the vault: %v", l)
		}
	}
	for _, s := range p.Secrets {
		cur, err := be.Get(ctx, s.Target)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Version != versions[s.Name] {
			t.Errorf("%s: version %s after the rerun, was %s", s.Name, cur.Version, versions[s.Name])
		}
	}
	if treeDigest(t, org.Dir, out) != after {
		t.Error("the rerun changed the working tree again")
	}
}

// TestDefaultConfigFile reads ./env2vault.yaml when --config is not given.
func TestDefaultConfigFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile(DefaultConfigFile, []byte("backend: aws\naws_region: eu-west-3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := settings(&Options{}, pflag.NewFlagSet("batch", pflag.ContinueOnError))
	if err != nil {
		t.Fatal(err)
	}
	if b := got.backend(); b.Kind != plan.BackendAWS || b.Region != "eu-west-3" {
		t.Fatalf("backend %+v, want aws in eu-west-3 from ./%s", b, DefaultConfigFile)
	}
}

func TestReporter(t *testing.T) {
	var js, text strings.Builder
	(&reporter{w: &js, json: true}).emit("migrate", "progress", map[string]any{"secret": "stripe-key", "done": 1, "total": 3})
	(&reporter{w: &text}).emit("migrate", "progress", map[string]any{"secret": "stripe-key", "done": 1, "total": 3})
	var got map[string]any
	if err := json.Unmarshal([]byte(js.String()), &got); err != nil {
		t.Fatalf("JSON line %q: %v", js.String(), err)
	}
	if got["stage"] != "migrate" || got["event"] != "progress" || got["secret"] != "stripe-key" || got["done"] != float64(1) {
		t.Fatalf("JSON line = %v", got)
	}
	if want := "migrate: progress (done=1, secret=stripe-key, total=3)\n"; text.String() != want {
		t.Fatalf("text line = %q, want %q", text.String(), want)
	}
}

// TestConflictExit: conflicts in the push exit 3 and rewrite nothing.
func TestConflictExit(t *testing.T) {
	setFingerprintKey(t)
	m, err := sampleorg.Build(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ios, _, _, errOut := cli.Test()
	rewrote := false
	opts := &Options{IO: ios, Paths: []string{m.Dir}, Yes: true, Flags: Config{Out: filepath.Join(t.TempDir(), "out")}}
	opts.stages = stages{
		Open: func(ctx context.Context, b plan.Backend, o migrate.Options) (migrate.Backend, error) {
			return okBackend{}, nil
		},
		Diff: func(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter) error {
			return nil
		},
		Migrate: func(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter, cfg Config, progress func(string, string, int, int)) (migrateSummary, error) {
			return migrateSummary{Created: len(p.Secrets) - 1, Conflicts: 1}, nil
		},
		Rewrite: func(ctx context.Context, p *plan.Plan, cfg Config, fp *secret.Fingerprinter) (*rewrite.Changeset, error) {
			rewrote = true
			return nil, errors.New("must not be called")
		},
	}
	err = Run(context.Background(), opts, nil)
	if code := cli.Code(err); code != cli.ExitConflict {
		t.Fatalf("exit %d (%v), want 3; stderr:\n%s", code, err, errOut)
	}
	if rewrote {
		t.Fatal("a push with conflicts went on to rewrite files")
	}
}

// okBackend answers Check and nothing else.
type okBackend struct{ migrate.Backend }

func (okBackend) Kind() string                    { return plan.BackendVault }
func (okBackend) Check(ctx context.Context) error { return nil }
