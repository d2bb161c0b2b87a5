package verify_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/internal/command/root"
	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/internal/vaulttest"
	"github.com/env2vault/env2vault/verify"
)

// TestVerifyLifecycle runs plan -> migrate -> verify (fails: values and
// reads are still in the repos) -> rewrite -> verify (passes, with the
// frontend key as a warning) over the sample org against a real Vault.
func TestVerifyLifecycle(t *testing.T) {
	env := vaulttest.Server(t)
	env.Setenv(t)
	t.Setenv("ENV2VAULT_FINGERPRINT_KEY", "verify-lifecycle-test-key-0123456789")
	ctx := context.Background()
	dir := t.TempDir()
	m, err := sampleorg.Build(ctx, filepath.Join(dir, "org"))
	if err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(dir, "plan.yaml")
	var transcript strings.Builder
	run := func(want int, args ...string) *verify.Report {
		t.Helper()
		ios, _, out, errOut := cli.Test()
		code := root.Execute(ctx, ios, args)
		transcript.WriteString(out.String() + errOut.String())
		if code != want {
			t.Fatalf("env2vault %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
		}
		if args[0] != "verify" || args[len(args)-1] != "json" {
			return nil
		}
		var rep verify.Report
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("verify --format json: %v", err)
		}
		return &rep
	}
	run(cli.ExitFound, "plan", "--vault-mount", env.KV2, "-o", planFile, filepath.Join(dir, "org"))

	// Before migrating, nothing is in the backend.
	rep := run(cli.ExitFound, "verify", "--plan", planFile, "--format", "json")
	if rep.Verified != 0 || !hasCheck(rep, verify.CheckBackend) {
		t.Fatalf("before migrate: verified %d, problems %+v", rep.Verified, rep.Problems)
	}

	run(cli.ExitOK, "migrate", "--plan", planFile, "--yes")
	rep = run(cli.ExitFound, "verify", "--plan", planFile, "--format", "json")
	if rep.Verified != rep.Secrets || hasCheck(rep, verify.CheckBackend) {
		t.Fatalf("after migrate: verified %d of %d: %+v", rep.Verified, rep.Secrets, rep.Problems)
	}
	if !hasCheck(rep, verify.CheckWorkingTree) || !hasCheck(rep, verify.CheckEnvRead) {
		t.Fatalf("after migrate, values and env reads are still in the repos, but verify did not say so: %+v", rep.Problems)
	}

	run(cli.ExitOK, "rewrite", "--plan", planFile, "--yes")
	rep = run(cli.ExitOK, "verify", "--plan", planFile, "--format", "json")
	for _, p := range rep.Problems {
		if p.Severity == verify.SeverityError {
			t.Errorf("after rewrite: %+v", p)
		}
	}
	if !strings.Contains(problemsText(rep), "frontend") {
		t.Errorf("the frontend key left in web/ is not reported as a warning: %+v", rep.Problems)
	}
	// Text output, and no value anywhere in what was printed.
	run(cli.ExitOK, "verify", "--plan", planFile)
	for _, v := range m.Planted() {
		if strings.Contains(transcript.String(), v) {
			t.Fatal("a planted value was printed")
		}
	}
}

func hasCheck(rep *verify.Report, check string) bool {
	for _, p := range rep.Problems {
		if p.Check == check && p.Severity == verify.SeverityError {
			return true
		}
	}
	return false
}

func problemsText(rep *verify.Report) string {
	var b strings.Builder
	for _, p := range rep.Problems {
		b.WriteString(p.Detail + "\n")
	}
	return b.String()
}
