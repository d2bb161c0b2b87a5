package rewrite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/internal/vaulttest"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	rw "github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/rewrite/langs"
	"github.com/env2vault/env2vault/secret"
)

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// canary fails the test if any planted value (or its base64), other than
// the allowed ones, appears in text.
func canary(t *testing.T, what, text string, m sampleorg.Manifest, allow map[string]bool) {
	t.Helper()
	for name, v := range m.Values {
		if allow[name] {
			continue
		}
		if strings.Contains(text, v) || strings.Contains(text, b64(v)) {
			t.Errorf("%s holds the planted value %q", what, name)
		}
	}
}

// snapshot maps every file under dir (outside .git) to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// appEnv is the environment the sample apps run with: Vault settings and
// ENV2VAULT_ENV, and none of the migrated variables.
func appEnv(addr, token, env string) []string {
	drop := map[string]bool{}
	for _, s := range sampleSecrets {
		drop[s.envVar] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[k] || strings.HasPrefix(k, "VAULT_") || k == "ENV2VAULT_ENV" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "VAULT_ADDR="+addr, "VAULT_TOKEN="+token, "ENV2VAULT_ENV="+env)
}

// digests parses "KEY sha256hex" lines.
func digests(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			m[f[0]] = f[1]
		}
	}
	return m
}

func runIn(t *testing.T, dir string, env []string, name string, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s in %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), dir, err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

func TestEndToEndSampleOrg(t *testing.T) {
	env := vaulttest.Server(t)
	ctx := context.Background()
	root := t.TempDir()
	m, err := sampleorg.Build(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	p, values := samplePlan(t, root, m)
	for i := range p.Secrets {
		p.Secrets[i].Target.Mount = env.KV2
	}
	p.Backend.Mount = env.KV2
	p.Refresh()
	t.Setenv(secret.KeyEnv, fingerprintKey)
	endToEnd(t, env, root, m, p, diskResolver(p, values))
}

// TestEndToEndScanPlanRewrite runs the real pipeline on the sample org:
// discover.Scan, plan.Build, values re-read with discover.Resolve and
// pushed into Vault, then the rewrite command.
func TestEndToEndScanPlanRewrite(t *testing.T) {
	env := vaulttest.Server(t)
	ctx := context.Background()
	root := t.TempDir()
	m, err := sampleorg.Build(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(secret.KeyEnv, fingerprintKey)
	fpr, err := secret.LoadFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	res, err := discover.Scan(ctx, discover.Options{Paths: []string{root}, Fingerprinter: fpr})
	if err != nil && strings.Contains(err.Error(), "not yet available") {
		t.Skipf("discover is not complete yet: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(ctx, res, plan.BuildOptions{Backend: plan.Backend{Kind: plan.BackendVault, Mount: env.KV2, KVVersion: 2}})
	if err != nil {
		t.Fatal(err)
	}
	endToEnd(t, env, root, m, p, nil)
}

// endToEnd drives the rewrite command over the sample org in root with
// plan p: dry run, refusals, migration into Vault, apply; then builds and
// runs the apps against Vault and checks no value is left or printed.
// resolve re-reads values (nil: discover.Resolve).
func endToEnd(t *testing.T, env *vaulttest.Env, root string, m sampleorg.Manifest, p *plan.Plan, resolve func(context.Context, discover.Location) (secret.Value, error)) {
	ctx := context.Background()
	mount := env.KV2
	client := env.Client
	planPath := filepath.Join(t.TempDir(), "plan.yaml")
	if err := plan.Save(planPath, p); err != nil {
		t.Fatal(err)
	}
	if resolve == nil {
		resolve = discover.Resolve
	}
	env.Setenv(t)
	fpr, err := secret.LoadFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	available := map[string]bool{}
	for _, l := range langs.All() {
		available[l.Name()] = true
	}
	var printed strings.Builder
	newOpts := func() (*Options, *bytes.Buffer, *bytes.Buffer) {
		ios, _, out, errOut := cli.Test()
		return &Options{
			IO: ios, PlanPath: planPath, Resolve: resolve,
		}, out, errOut
	}
	record := func(out, errOut *bytes.Buffer) { printed.WriteString(out.String() + errOut.String()) }
	before := snapshot(t, root)

	// Dry run: a redacted diff, nothing written.
	o, out, errOut := newOpts()
	o.DryRun = true
	if err := run(ctx, o); err != nil {
		t.Fatalf("dry run: %v\n%s", err, errOut)
	}
	record(out, errOut)
	if !strings.Contains(out.String(), "-STRIPE_SECRET_KEY="+rw.Mask) || !strings.Contains(out.String(), "+STRIPE_SECRET_KEY=vault://"+mount+"/") {
		t.Errorf("dry-run diff does not show the masked .env rewrite:\n%s", out)
	}
	if !sameTree(before, snapshot(t, root)) {
		t.Fatal("--dry-run changed files")
	}

	// Without a terminal, --yes is required.
	o, out, errOut = newOpts()
	if err := run(ctx, o); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("apply without --yes and without a TTY: err = %v", err)
	}
	// Nothing is rewired before the secrets are in the backend.
	o, out, errOut = newOpts()
	o.Yes = true
	if err := run(ctx, o); !errors.Is(err, rw.ErrNotMigrated) {
		t.Fatalf("apply before migrate: err = %v", err)
	}
	record(out, errOut)
	if !sameTree(before, snapshot(t, root)) {
		t.Fatal("a refused apply changed files")
	}

	// Migrate with migrate's runner (a fresh KV v2 mount upgrades in the
	// background: wait until it takes writes).
	if err := vaulttest.WaitWritable(ctx, client, mount, 2); err != nil {
		t.Fatal(err)
	}
	backend, err := migrate.Open(ctx, p.Backend, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := migrate.Run(ctx, backend, p, migrate.RunOptions{Fingerprinter: fpr, Resolve: resolve})
	if err != nil || !sum.OK() {
		t.Fatalf("migrate: %v (%+v)", err, sum)
	}

	// A dirty tracked file blocks the rewrite unless --allow-dirty.
	owners := filepath.Join(root, "billing-api", "CODEOWNERS")
	orig, _ := os.ReadFile(owners)
	if err := os.WriteFile(owners, append(orig, "# wip\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	o, out, errOut = newOpts()
	o.Yes = true
	if err := run(ctx, o); !errors.Is(err, rw.ErrDirty) {
		t.Fatalf("apply on a dirty repo: err = %v", err)
	}
	if err := os.WriteFile(owners, orig, 0o644); err != nil {
		t.Fatal(err)
	}

	// Apply.
	o, out, errOut = newOpts()
	o.Yes = true
	if err := run(ctx, o); err != nil {
		t.Fatalf("apply: %v\n%s", err, errOut)
	}
	record(out, errOut)
	t.Logf("apply output:\n%s", errOut)

	// No planted value is left in any working tree (outside git history
	// and node_modules), except the flagged frontend key.
	allow := map[string]bool{"google-maps": true, "npm": true}
	for path, content := range snapshot(t, root) {
		if strings.Contains(path, "/node_modules/") {
			continue
		}
		canary(t, path, content, m, allow)
	}

	// billing-api builds and reads its secrets from Vault.
	addr, token := env.Addr, env.Token
	billing := filepath.Join(root, "billing-api")
	buildEnv := append(os.Environ(), "GOWORK=off", "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=readonly"), "GOTOOLCHAIN=local")
	runIn(t, billing, buildEnv, "go", "build", "./...")
	bin := filepath.Join(t.TempDir(), "billing-api")
	runIn(t, billing, buildEnv, "go", "build", "-o", bin, ".")
	for _, env := range []string{"dev", "prod"} {
		stdout, stderr := runIn(t, billing, appEnv(addr, token, env), bin)
		printed.WriteString(stdout + stderr)
		got := digests(stdout)
		want := map[string]string{
			"STRIPE_SECRET_KEY": m.Values[map[string]string{"dev": "stripe-test", "prod": "stripe-live"}[env]],
			"DATABASE_URL":      databaseURL(m, env),
			"ANTHROPIC_API_KEY": m.Values["anthropic"],
		}
		for k, v := range want {
			if got[k] != digest(v) {
				t.Errorf("billing-api (%s) printed a wrong digest for %s (stderr: %s)", env, k, stderr)
			}
		}
	}

	for _, lang := range []string{"go", "python", "javascript"} {
		if !available[lang] {
			t.Fatalf("rewrite/langs has no %s rewriter", lang)
		}
	}
	{
		ml := filepath.Join(root, "teams", "ml", "ml-service")
		runIn(t, ml, os.Environ(), "python3", "-m", "py_compile", "app.py", "ml/settings.py")
		stdout, stderr := runIn(t, ml, appEnv(addr, token, "dev"), "python3", "app.py")
		printed.WriteString(stdout + stderr)
		got := digests(stdout)
		for k, name := range map[string]string{"ANTHROPIC_API_KEY": "anthropic", "OPENAI_API_KEY": "openai", "HF_TOKEN": "huggingface"} {
			if got[k] != digest(m.Values[name]) {
				t.Errorf("ml-service printed a wrong digest for %s (stderr: %s)", k, stderr)
			}
		}
	}
	{
		web := filepath.Join(root, "web")
		runIn(t, web, os.Environ(), "node", "--check", "src/server.js")
		stdout, stderr := runIn(t, web, appEnv(addr, token, "dev"), "node", "src/server.js")
		printed.WriteString(stdout + stderr)
		got := digests(stdout)
		for k, name := range map[string]string{"SENDGRID_API_KEY": "sendgrid", "STRIPE_SECRET_KEY": "stripe-test", "SESSION_SECRET": "session-secret"} {
			if got[k] != digest(m.Values[name]) {
				t.Errorf("web printed a wrong digest for %s (stderr: %s)", k, stderr)
			}
		}
	}

	// Nothing printed anywhere held a value.
	canary(t, "command and app output", printed.String(), m, nil)

	// A second rewrite finds nothing left to do.
	cs, err := rw.Prepare(ctx, p, rw.Options{Languages: langs.All(), Resolve: resolve})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range cs.Files {
		t.Errorf("second rewrite would change %s again", f.Name())
	}
}

// databaseURL is billing-api's DATABASE_URL in env, from its .env files.
func databaseURL(m sampleorg.Manifest, env string) string {
	if env == "prod" {
		return "postgres://billing:" + m.Values["pg-prod-password"] + "@db.internal:5432/billing"
	}
	return "postgres://billing:" + m.Values["pg-dev-password"] + "@localhost:5432/billing"
}
