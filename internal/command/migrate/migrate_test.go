package migrate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/internal/vaulttest"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

var update = flag.Bool("update", false, "update golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
	}
}

func TestWriteSummaryGolden(t *testing.T) {
	results := []migrate.Result{
		{Name: "billing-stripe-key-prod", Target: "secret/billing-api/billing-stripe-key-prod#value", Planned: "create", Action: "create", Version: "1", Verified: true},
		{Name: "billing-db-password-prod", Target: "secret/billing-api/billing-db-password-prod#value", Planned: "create", Action: "no-op", Version: "1", Verified: true, Resumed: true},
		{Name: "ml-openai-key-dev", Target: "secret/ml-service/ml-openai-key-dev#value", Planned: "create", Action: "conflict", Error: "the value at teams/ml/ml-service/.env:3 changed since the plan was made; re-run env2vault plan"},
		{Name: "web-sendgrid-key-prod", Target: "secret/web/web-sendgrid-key-prod#value", Planned: "update", Action: "failed", Error: "gave up after 6 tries: cannot reach Vault at https://vault.example.com:8200: connection refused"},
	}
	sum := &migrate.Summary{Results: results, Counts: map[string]int{"create": 1, "no-op": 1, "conflict": 1, "failed": 1}}
	var b bytes.Buffer
	WriteSummary(&b, sum)
	golden(t, "summary.txt", b.Bytes())

	dry := &migrate.Summary{DryRun: true, Results: []migrate.Result{
		{Name: "a-key-prod", Target: "kv1/app/a-key-prod#value", Planned: "create", Action: "create"},
		{Name: "b-key-prod", Target: "kv1/app/b-key-prod#value", Planned: "create", Action: "no-op", Verified: true},
	}, Counts: map[string]int{"create": 1, "no-op": 1}}
	b.Reset()
	WriteSummary(&b, dry)
	golden(t, "summary-dry-run.txt", b.Bytes())
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(planFile, []byte("schema_version: 1\nbackend: {kind: vault}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no plan", Options{Yes: true, Concurrency: 1}, "--plan is required"},
		{"no tty, no --yes", Options{PlanFile: planFile, Concurrency: 1}, "pass --yes to migrate, or --dry-run to preview"},
		{"concurrency", Options{PlanFile: planFile, Yes: true, Concurrency: 0}, "--concurrency must be between 1 and 64"},
		{"format", Options{PlanFile: planFile, Yes: true, Concurrency: 1, Format: "xml"}, "unknown --format"},
		{"missing plan", Options{PlanFile: filepath.Join(dir, "nope.yaml"), Yes: true, Concurrency: 1}, "reading the plan"},
		{"invalid plan", Options{PlanFile: planFile, Yes: true, Concurrency: 1}, "backend.mount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := cli.Test()
			tt.opts.IO = ios
			err := Run(context.Background(), &tt.opts)
			if cli.Code(err) != cli.ExitFailure || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("exit %d, %v; want exit 2 and %q", cli.Code(err), err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout: %q", out)
			}
		})
	}
}

func TestNoTokenFlag(t *testing.T) {
	ios, _, _, _ := cli.Test()
	cmd := NewCmd(ios)
	for _, name := range []string{"token", "vault-token"} {
		if cmd.Flags().Lookup(name) != nil {
			t.Errorf("migrate has a --%s flag; tokens come from the environment only", name)
		}
	}
}

// samplePlan builds the sample org, scans it and saves a plan for the
// Vault mount, returning the plan file and the manifest.
func samplePlan(t *testing.T, mount string, kv int) (string, sampleorg.Manifest, *plan.Plan) {
	t.Helper()
	t.Setenv(secret.KeyEnv, "env2vault-migrate-test-fingerprint-key")
	ctx := context.Background()
	org := filepath.Join(t.TempDir(), "org")
	m, err := sampleorg.Build(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := secret.LoadFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	res, err := discover.Scan(ctx, discover.Options{Paths: []string{org}, Fingerprinter: fp})
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(ctx, res, plan.BuildOptions{Backend: plan.Backend{Kind: plan.BackendVault, Mount: mount, KVVersion: kv}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Secrets) < 5 {
		t.Fatalf("the sample org planned only %d secrets", len(p.Secrets))
	}
	file := filepath.Join(t.TempDir(), "plan.yaml")
	if err := plan.Save(file, p); err != nil {
		t.Fatal(err)
	}
	return file, m, p
}

func run(t *testing.T, opts Options) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := cli.Test()
	opts.IO = ios
	if opts.Concurrency == 0 {
		opts.Concurrency = 4
	}
	err := Run(context.Background(), &opts)
	if err != nil {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return cli.Code(err), out.String(), errOut.String()
}

func noPlanted(t *testing.T, m sampleorg.Manifest, what string, texts ...string) {
	t.Helper()
	all := strings.Join(texts, "\n")
	for _, v := range m.Planted() {
		if strings.Contains(all, v) {
			t.Errorf("%s contains a planted secret value", what)
			return
		}
	}
}

// TestSampleOrgEndToEnd migrates the sample org's plan into a real Vault:
// dry run, push, rerun, a changed source, all checked for planted values.
func TestSampleOrgEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end migration of the sample org")
	}
	for _, kv := range []int{2, 1} {
		t.Run(map[int]string{1: "kv1", 2: "kv2"}[kv], func(t *testing.T) {
			e := vaulttest.Server(t)
			e.Setenv(t)
			t.Setenv("HOME", t.TempDir())
			mount := e.KV2
			if kv == 1 {
				mount = e.KV1
			}
			planFile, m, p := samplePlan(t, mount, kv)
			var outputs []string

			code, out, errOut := run(t, Options{PlanFile: planFile, DryRun: true})
			outputs = append(outputs, out, errOut)
			if code != 0 || !strings.Contains(out, "Dry run: nothing was written.") || !strings.Contains(out, "to create") {
				t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
			}
			if _, err := os.Stat(migrate.JournalPath(planFile)); !os.IsNotExist(err) {
				t.Errorf("the dry run wrote a journal")
			}

			code, out, errOut = run(t, Options{PlanFile: planFile, Yes: true})
			outputs = append(outputs, out, errOut)
			if code != 0 {
				t.Fatalf("migrate: exit %d\n%s\n%s", code, out, errOut)
			}
			n := len(p.Secrets)
			if want := fmt.Sprintf("%d secrets: %d created, 0 conflicts.", n, n); !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
			// Every planned secret is in Vault with its source's value.
			fp, _ := secret.LoadFingerprinter()
			for _, s := range p.Secrets {
				var got string
				if kv == 2 {
					sec, err := e.Client.KVv2(mount).Get(context.Background(), s.Target.Path)
					if err != nil {
						t.Fatalf("%s: %v", s.Name, err)
					}
					got, _ = sec.Data[s.Target.Field].(string)
				} else {
					sec, err := e.Client.KVv1(mount).Get(context.Background(), s.Target.Path)
					if err != nil {
						t.Fatalf("%s: %v", s.Name, err)
					}
					got, _ = sec.Data[s.Target.Field].(string)
				}
				if !fp.Matches(secret.New(got), s.Fingerprint) {
					t.Errorf("%s: Vault holds a value with another fingerprint", s.Name)
				}
			}

			code, out, errOut = run(t, Options{PlanFile: planFile, Yes: true, Format: "json"})
			outputs = append(outputs, out, errOut)
			if code != 0 || !strings.Contains(out, `"no-op": `+strconv.Itoa(n)) {
				t.Fatalf("rerun: exit %d, want every secret no-op\n%s\n%s", code, out, errOut)
			}

			// Change one source: that secret is a conflict, exit 3.
			s := p.Secrets[0]
			src := s.Sources[0]
			file := filepath.Join(src.Root, src.Repo, src.Path)
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			val := ""
			for _, v := range m.Values {
				if fp.Matches(secret.New(v), s.Fingerprint) {
					val = v
				}
			}
			if val == "" || !bytes.Contains(b, []byte(val)) {
				t.Fatalf("cannot find %s's planted value in %s to change it", s.Name, src.Path)
			}
			if err := os.WriteFile(file, bytes.Replace(b, []byte(val), []byte(val+"x"), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut = run(t, Options{PlanFile: planFile, Yes: true})
			outputs = append(outputs, out, errOut)
			if code != cli.ExitConflict || !strings.Contains(out, "changed since the plan was made") {
				t.Errorf("changed source: exit %d\n%s\n%s", code, out, errOut)
			}

			journal, err := os.ReadFile(migrate.JournalPath(planFile))
			if err != nil {
				t.Fatal(err)
			}
			noPlanted(t, m, "output, journal or plan", append(outputs, string(journal))...)
			noPlanted(t, sampleorg.Manifest{Values: map[string]string{"x": val + "x"}}, "output or journal", append(outputs, string(journal))...)
		})
	}
}

func TestConfirmOnTerminal(t *testing.T) {
	e := vaulttest.Server(t)
	e.Setenv(t)
	t.Setenv("HOME", t.TempDir())
	planFile, m, p := samplePlan(t, e.KV2, 2)
	for _, answer := range []string{"n\n", "y\n"} {
		ios, in, out, errOut := cli.Test()
		ios.InTTY, ios.ErrTTY = true, true
		in.WriteString(answer)
		err := Run(context.Background(), &Options{IO: ios, PlanFile: planFile, Concurrency: 4, Format: "text"})
		if !strings.Contains(errOut.String(), "to create") || !strings.Contains(errOut.String(), "[y/N]") {
			t.Errorf("answer %q: no preview or question:\n%s", answer, errOut)
		}
		_, verr := e.Client.KVv2(e.KV2).Get(context.Background(), p.Secrets[0].Target.Path)
		if answer == "n\n" {
			if cli.Code(err) == 0 || verr == nil {
				t.Errorf("declined, but exit %d and the secret exists: %v", cli.Code(err), verr)
			}
		} else {
			if err != nil || verr != nil {
				t.Errorf("confirmed: %v, reading back: %v\n%s", err, verr, errOut)
			}
			if !strings.Contains(errOut.String(), "secrets\x1b[K") {
				t.Errorf("no progress bar on a terminal")
			}
		}
		noPlanted(t, m, "output", out.String(), errOut.String())
	}
}

func TestProgressBar(t *testing.T) {
	// Not a terminal: silent.
	ios, _, _, errOut := cli.Test()
	b := newBar(ios)
	b.update(1, 2, migrate.Result{})
	b.done()
	if errOut.Len() != 0 {
		t.Errorf("drew on a non-terminal: %q", errOut)
	}
	// A terminal without colour: plain characters, erased at the end.
	ios, _, _, errOut = cli.Test()
	ios.ErrTTY = true
	b = newBar(ios)
	b.update(1, 2, migrate.Result{})
	b.update(2, 2, migrate.Result{})
	b.done()
	want := "\r" + strings.Repeat("#", 18) + strings.Repeat(".", 17) + "  50% 1/2 secrets\x1b[K" +
		"\r" + strings.Repeat("#", 35) + " 100% 2/2 secrets\x1b[K\r\x1b[K"
	if got := errOut.String(); got != want {
		t.Errorf("bar:\n got %q\nwant %q", got, want)
	}
}

// helperEnv makes the test binary act as `env2vault migrate` for
// TestKilledMidRun's child process.
const helperEnv = "ENV2VAULT_MIGRATE_TEST_CHILD_PLAN"

func TestMain(m *testing.M) {
	if planFile := os.Getenv(helperEnv); planFile != "" {
		ios, _, _, errOut := cli.Test()
		err := Run(context.Background(), &Options{IO: ios, PlanFile: planFile, Yes: true, Concurrency: 2, Format: "text"})
		os.Stderr.Write(errOut.Bytes())
		os.Exit(cli.Code(err))
	}
	os.Exit(m.Run())
}

// bigPlan writes a repo whose .env.production holds n random secrets and
// plans it for the mount.
func bigPlan(t *testing.T, mount string, n int) (string, []string, *plan.Plan) {
	t.Helper()
	t.Setenv(secret.KeyEnv, "env2vault-migrate-test-fingerprint-key")
	ctx := context.Background()
	repo := filepath.Join(t.TempDir(), "org", "svc")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	var env bytes.Buffer
	var values []string
	for i := range n {
		b := make([]byte, 24)
		rand.Read(b)
		v := "bt_" + hex.EncodeToString(b)
		values = append(values, v)
		fmt.Fprintf(&env, "BULK_%04d_API_TOKEN=%s\n", i, v)
	}
	if err := os.WriteFile(filepath.Join(repo, ".env.production"), env.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	fp, err := secret.LoadFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	res, err := discover.Scan(ctx, discover.Options{Paths: []string{filepath.Dir(repo)}, Fingerprinter: fp})
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(ctx, res, plan.BuildOptions{Backend: plan.Backend{Kind: plan.BackendVault, Mount: mount, KVVersion: 2}, NameTemplate: "{{.Repo}}-{{.Key}}-{{.Env}}"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Secrets) != n {
		t.Fatalf("planned %d secrets, want %d", len(p.Secrets), n)
	}
	file := filepath.Join(t.TempDir(), "plan.yaml")
	if err := plan.Save(file, p); err != nil {
		t.Fatal(err)
	}
	return file, values, p
}

// TestKilledMidRun kills a migrating process (SIGKILL) part-way, then
// reruns: every secret ends with exactly one version, and the journal
// and outputs hold no values.
func TestKilledMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process mid-migration")
	}
	e := vaulttest.Server(t)
	e.Setenv(t)
	t.Setenv("HOME", t.TempDir())
	const n = 300
	planFile, values, p := bigPlan(t, e.KV2, n)
	journal := migrate.JournalPath(planFile)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+planFile)
	var childErr bytes.Buffer
	cmd.Stderr = &childErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Kill it once some secrets are written, well before all are.
	killed := false
	for !killed {
		select {
		case err := <-exited:
			t.Fatalf("the child finished before it could be killed (%v); raise n\n%s", err, childErr.String())
		case <-time.After(20 * time.Millisecond):
		}
		b, _ := os.ReadFile(journal)
		if bytes.Count(b, []byte(`"state":"written"`)) >= 20 {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-exited
			killed = true
		}
	}
	before, err := migrate.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	verified := 0
	for _, en := range before {
		if en.State == migrate.StateVerified {
			verified++
		}
	}
	if verified >= n {
		t.Fatalf("all %d secrets were done before the kill", n)
	}

	code, out, errOut := run(t, Options{PlanFile: planFile, Yes: true, Format: "json"})
	if code != 0 {
		t.Fatalf("rerun after the kill: exit %d\n%s\n%s", code, out, errOut)
	}
	var sum migrate.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	resumed := 0
	for _, r := range sum.Results {
		if r.Resumed {
			resumed++
		}
	}
	t.Logf("killed after %d verified; the rerun: %v, %d resumed", verified, sum.Counts, resumed)
	if sum.Counts[plan.ActionCreate] == 0 || sum.Counts[plan.ActionNoop] < verified {
		t.Errorf("rerun counts %v after %d were verified", sum.Counts, verified)
	}
	for _, s := range p.Secrets {
		m, err := e.Client.KVv2(e.KV2).GetMetadata(context.Background(), s.Target.Path)
		if err != nil || m.CurrentVersion != 1 {
			t.Errorf("%s: %v; want exactly one version", s.Name, err)
		}
	}
	// A third run writes nothing.
	code, out2, _ := run(t, Options{PlanFile: planFile, Yes: true, Format: "json"})
	if code != 0 || !strings.Contains(out2, `"no-op": `+strconv.Itoa(n)) {
		t.Errorf("third run: exit %d, want all no-op", code)
	}
	jb, _ := os.ReadFile(journal)
	for _, v := range values {
		for _, text := range []string{out, errOut, out2, childErr.String(), string(jb)} {
			if strings.Contains(text, v) {
				t.Fatal("a secret value leaked into the output or the journal")
			}
		}
	}
}
