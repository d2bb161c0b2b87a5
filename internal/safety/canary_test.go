package safety

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/internal/vaulttest"
)

// TestCanaryEveryCommand drives every command through root.Execute over
// a fresh sample org — scan, plan, checklist, migrate, rewrite, verify,
// batch and run, in every format, to stdout and to files — against a
// real Vault, then searches every stdout, stderr, written file, journal,
// plan, report, the private HOME/XDG_CONFIG_HOME/TMPDIR, and every file
// env2vault created or changed in the org for every planted value: none
// may appear. A self-check plants a value in the searched places first
// and requires the search to find it.
func TestCanaryEveryCommand(t *testing.T) {
	env := vaulttest.Server(t)
	sb := newSandbox(t)
	env.Setenv(t)
	ctx := context.Background()
	m, err := sampleorg.Build(ctx, filepath.Join(sb.base, "org"))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := sampleorg.Build(ctx, filepath.Join(sb.base, "org2"))
	if err != nil {
		t.Fatal(err)
	}
	c := newCanary(m)
	for n, v := range m2.Values {
		c.add(n, "org2", v)
	}
	if len(c.vals) < 2*len(m.Values) {
		t.Fatalf("the canary holds %d forms of %d values", len(c.vals), len(m.Values))
	}
	org, org2 := m.Dir, m2.Dir
	before, before2 := snapshot(t, org), snapshot(t, org2)
	out := func(parts ...string) string {
		p := filepath.Join(append([]string{sb.out}, parts...)...)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}

	var results []result
	run := func(want int, args ...string) result {
		t.Helper()
		r := execute(t, args...)
		results = append(results, r)
		if r.code != want {
			t.Fatalf("want exit %d\n%s", want, r.show(c))
		}
		return r
	}

	// scan: every format, to stdout and to a file.
	for _, f := range []string{"text", "json", "sarif", "markdown"} {
		r := run(1, "scan", "--format", f, org)
		if r.stdout == "" {
			t.Errorf("scan --format %s printed nothing", f)
		}
		run(1, "scan", "--format", f, "-o", out("scan", "report."+f), org)
	}
	run(1, "scan", "--no-history", "--format", "json", "-o", out("scan", "nohistory.json"), org)

	// plan: every report format (live diff against the mount), plus a plan
	// from the scan JSON; the plan file each time.
	planFile := out("plan", "env2vault-plan.yaml")
	for _, f := range []string{"text", "markdown", "json", "html"} {
		run(1, "plan", "--vault-mount", env.KV2, "--format", f, "-o", out("plan", "plan-"+f+".yaml"), org)
	}
	run(1, "plan", "--offline", "--from-scan", out("scan", "report.json"), "-o", out("plan", "from-scan.yaml"))
	run(1, "plan", "--vault-mount", env.KV2, "-o", planFile, org)

	// checklist: each phase, both formats.
	for _, ph := range []string{"inventory", "planning", "implementation", "rollout", "all"} {
		for _, f := range []string{"markdown", "json"} {
			if r := run(0, "checklist", "--plan", planFile, "--phase", ph, "--format", f); r.stdout == "" {
				t.Errorf("checklist --phase %s --format %s printed nothing", ph, f)
			}
		}
	}

	// migrate: dry runs, the push, a no-op rerun; the journal sits beside
	// the plan file in out/plan.
	run(0, "migrate", "--plan", planFile, "--dry-run")
	run(0, "migrate", "--plan", planFile, "--dry-run", "--format", "json")
	run(0, "migrate", "--plan", planFile, "--yes")
	run(0, "migrate", "--plan", planFile, "--yes", "--format", "json")
	if _, err := os.Stat(planFile + ".journal"); err != nil {
		t.Errorf("migrate left no journal: %v", err)
	}

	// rewrite: the masked diff, then the apply.
	if r := run(0, "rewrite", "--plan", planFile, "--dry-run"); !strings.Contains(r.stdout, "****") {
		t.Error("rewrite --dry-run shows no masked value")
	}
	run(0, "rewrite", "--plan", planFile, "--yes")

	// verify: both formats.
	run(0, "verify", "--plan", planFile)
	run(0, "verify", "--plan", planFile, "--format", "json")

	// run: a child prints digests of what it was given, from the .env
	// references rewrite left (dev) and from the plan (prod).
	t.Setenv(childEnv, "digest")
	t.Setenv(digestKeysEnv, "STRIPE_SECRET_KEY,DATABASE_URL,ANTHROPIC_API_KEY")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := run(0, "run", "--dir", filepath.Join(org, "billing-api"), "--", self)
	if !strings.Contains(r.stdout, "STRIPE_SECRET_KEY "+digest(m.Values["stripe-test"])) {
		t.Errorf("run (dev, .env references) did not hand the child the dev Stripe key:\n%s", c.redact(r.stdout))
	}
	r = run(0, "run", "--dir", filepath.Join(org, "billing-api"), "--env", "prod", "--plan", planFile, "--", self)
	if !strings.Contains(r.stdout, "STRIPE_SECRET_KEY "+digest(m.Values["stripe-live"])) {
		t.Errorf("run (prod, plan) did not hand the child the live Stripe key:\n%s", c.redact(r.stdout))
	}
	t.Setenv(childEnv, "")

	// batch: a dry run and a real run over a second copy of the org, into
	// a second mount.
	mount2 := vaulttest.Mount(t, env.Client, 2)
	run(1, "batch", "--dry-run", "--vault-mount", mount2, "--out", out("batch-dry"), org2)
	run(4, "batch", "--yes", "--vault-mount", mount2, "--out", out("batch-yes"), org2)
	for _, d := range []string{"batch-dry", "batch-yes"} {
		if ents, _ := os.ReadDir(filepath.Join(sb.out, d)); len(ents) < 3 {
			t.Errorf("batch wrote only %d files into --out %s", len(ents), d)
		}
	}

	// Self-check: the search finds a planted value in each place it looks.
	names := make([]string, 0, len(m.Values))
	for n := range m.Values {
		names = append(names, n)
	}
	sort.Strings(names)
	probe := m.Values[names[len(names)/2]]
	for _, dir := range []string{sb.out, sb.tmp, sb.home, sb.config} {
		f := filepath.Join(dir, "deep", "canary-self-check.txt")
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("x="+base64.StdEncoding.EncodeToString([]byte(probe))+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, hits, err := c.treeHits(dir); err != nil || len(hits) != 1 || !strings.HasPrefix(hits[0], filepath.Join("deep", "canary-self-check.txt")) {
			t.Fatalf("self-check: the search of %s found %v (%v), want only the planted probe", dir, hits, err)
		}
		os.RemoveAll(filepath.Join(dir, "deep"))
	}
	if len(c.hits([]byte("stdout: "+probe+"\n"))) == 0 || len(c.hits([]byte("nothing here"))) != 0 {
		t.Fatal("self-check: the output search is broken")
	}
	if got := newOrgCopies(before, map[string][]byte{"a": []byte("k=" + probe)}, c); len(got) != 1 {
		t.Fatalf("self-check: a value copied into a new file was not caught: %v", got)
	}

	// The real search.
	for _, r := range results {
		c.check(t, "stdout of env2vault "+strings.Join(r.args, " "), []byte(r.stdout))
		c.check(t, "stderr of env2vault "+strings.Join(r.args, " "), []byte(r.stderr))
	}
	files := 0
	for _, dir := range []string{sb.out, sb.tmp, sb.home, sb.config} {
		files += c.checkTree(t, dir)
	}
	if files < 30 {
		t.Errorf("the search read only %d files; the commands should have written more", files)
	}
	for i, o := range []string{org, org2} {
		after := snapshot(t, o)
		prev := [](map[string][]byte){before, before2}[i]
		for _, e := range newOrgCopies(prev, after, c) {
			t.Errorf("%s: %s", filepath.Base(o), e)
		}
		changed := 0
		for p, b := range after {
			if !bytes.Equal(prev[p], b) {
				changed++
			}
		}
		if changed < 10 {
			t.Errorf("%s: only %d files changed; the rewrite did not run?", filepath.Base(o), changed)
		}
	}
	var left []string
	filepath.WalkDir(sb.tmp, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != sb.tmp {
			rel, _ := filepath.Rel(sb.tmp, p)
			left = append(left, rel)
			if d.IsDir() {
				return filepath.SkipDir
			}
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("the commands left entries in TMPDIR: %v", left)
	}
	t.Logf("%d commands, %d files searched, %d value forms", len(results), files, len(c.vals))
}

// newOrgCopies returns, for each file in after, the planted values it
// holds more often than the same file did in before: env2vault may leave
// a value where it was (a flagged frontend key) but never copy one to a
// new place.
func newOrgCopies(before, after map[string][]byte, c *canary) []string {
	var out []string
	for p, b := range after {
		for i, v := range c.vals {
			if n := bytes.Count(b, v); n > bytes.Count(before[p], v) {
				out = append(out, p+" gained "+c.names[i])
			}
		}
	}
	sort.Strings(out)
	return out
}
