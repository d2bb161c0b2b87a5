package rewrite

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/plan"
	rw "github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/secret"
)

var update = flag.Bool("update", false, "update golden files")

// TestDryRunGolden pins the whole redacted diff rewrite prints for the
// sample org, and checks no planted value is printed and nothing is
// written. It needs no Vault: a dry run never contacts the backend.
func TestDryRunGolden(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	m, err := sampleorg.Build(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	p, values := samplePlan(t, root, m)
	planPath := filepath.Join(t.TempDir(), "plan.yaml")
	if err := plan.Save(planPath, p); err != nil {
		t.Fatal(err)
	}
	t.Setenv(secret.KeyEnv, fingerprintKey)
	before := snapshot(t, root)
	ios, _, out, errOut := cli.Test()
	o := &Options{IO: ios, PlanPath: planPath, DryRun: true, Resolve: diskResolver(p, values)}
	if err := run(ctx, o); err != nil {
		t.Fatalf("dry run: %v\n%s", err, errOut)
	}
	if !sameTree(before, snapshot(t, root)) {
		t.Fatal("--dry-run changed files")
	}
	canary(t, "dry-run output", out.String()+errOut.String(), m, nil)
	got := strings.ReplaceAll(out.String()+"\n--- stderr ---\n"+errOut.String(), root, "ROOT")
	if !strings.Contains(got, "-STRIPE_SECRET_KEY="+rw.Mask) {
		t.Error("the removed .env line does not show the masked value")
	}
	golden := filepath.Join("testdata", "sampleorg-dry-run.golden")
	if *update {
		_ = os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("dry-run output differs from %s:\n%s", golden, got)
	}
}

func TestFlagsAndInputErrors(t *testing.T) {
	ios, _, _, _ := cli.Test()
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no plan", Options{IO: ios}, "--plan is required"},
		{"bad lang", Options{IO: ios, PlanPath: "x", Langs: []string{"cobol"}}, "unknown language"},
		{"no tty", Options{IO: ios, PlanPath: "x"}, "--yes"},
		{"missing plan", Options{IO: ios, PlanPath: filepath.Join(t.TempDir(), "nope.yaml"), DryRun: true}, "reading the plan"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), &tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || cli.Code(err) != cli.ExitFailure {
				t.Fatalf("err = %v (code %d), want exit 2 mentioning %q", err, cli.Code(err), tc.want)
			}
		})
	}
}

func TestConfirm(t *testing.T) {
	cs := &rw.Changeset{Files: []*rw.FileChange{
		{Repo: "svc", Path: ".env", Why: []string{"API_KEY → vault reference"}},
		{Repo: "svc", Path: "main.go"},
	}}
	tests := []struct {
		in       string
		wantErr  bool
		env, gof bool
	}{
		{"y\n", false, true, true},
		{"yes\n", false, true, true},
		{"n\n", true, false, false},
		{"\n", true, false, false},
		{"", true, false, false},
		{"p\ny\nn\n", false, true, false},
		{"pick\n\nyes\n", false, false, true},
		{"p\ny\n", true, false, false}, // ran out of answers
	}
	for _, tc := range tests {
		ios, in, _, errOut := cli.Test()
		in.WriteString(tc.in)
		only, err := confirm(ios, cs)
		if (err != nil) != tc.wantErr {
			t.Errorf("answers %q: err = %v", tc.in, err)
			continue
		}
		if err != nil {
			continue
		}
		if only("svc/.env") != tc.env || only("svc/main.go") != tc.gof {
			t.Errorf("answers %q: .env %v main.go %v", tc.in, only("svc/.env"), only("svc/main.go"))
		}
		if !strings.Contains(errOut.String(), "Apply these changes to 2 file(s)?") {
			t.Errorf("prompt missing: %q", errOut)
		}
	}
}
