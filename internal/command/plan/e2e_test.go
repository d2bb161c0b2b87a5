package plan

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/internal/command/checklist"
	"github.com/env2vault/env2vault/internal/sampleorg"
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

// TestSampleOrg plans the sample organisation end to end (real scan, real
// git history and CODEOWNERS), checks every report, the plan file and the
// checklists against golden files, and searches all of them for the
// planted values.
func TestSampleOrg(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end scan of the sample org")
	}
	t.Setenv(secret.KeyEnv, "env2vault-golden-fingerprint-key")
	t.Setenv("NO_COLOR", "1")
	ctx := context.Background()
	org := filepath.Join(t.TempDir(), "org")
	m, err := sampleorg.Build(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	outDir := t.TempDir()
	planFile := filepath.Join(outDir, "plan.yaml")
	norm := func(b []byte) []byte {
		b = bytes.ReplaceAll(b, []byte(org), []byte("$ORG"))
		return bytes.ReplaceAll(b, []byte(outDir), []byte("$OUT"))
	}
	var outputs = map[string][]byte{}
	for _, f := range []struct{ format, ext string }{{"text", "txt"}, {"markdown", "md"}, {"json", "json"}, {"html", "html"}} {
		ios, _, out, errOut := cli.Test()
		err := Run(ctx, &Options{IO: ios, Paths: []string{org}, Output: planFile, Format: f.format, Offline: true})
		if code := cli.Code(err); code != cli.ExitFound {
			t.Fatalf("plan --format %s: exit %d: %v\n%s", f.format, code, err, errOut)
		}
		outputs["report."+f.ext] = out.Bytes()
		outputs["stderr."+f.format] = errOut.Bytes()
		golden(t, "sample-org.report."+f.ext, norm(out.Bytes()))
	}
	planYAML, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	outputs["plan.yaml"] = planYAML
	golden(t, "sample-org.plan.yaml", norm(planYAML))

	for _, f := range []struct{ format, ext string }{{"markdown", "md"}, {"json", "json"}} {
		ios, _, out, errOut := cli.Test()
		if err := checklist.Run(ctx, &checklist.Options{IO: ios, PlanFile: planFile, Phase: "all", Format: f.format}); err != nil {
			t.Fatalf("checklist --format %s: %v\n%s", f.format, err, errOut)
		}
		outputs["checklist."+f.ext] = out.Bytes()
		golden(t, "sample-org.checklist."+f.ext, norm(out.Bytes()))
	}

	planted := m.Planted()
	if len(planted) == 0 {
		t.Fatal("the sample org planted nothing")
	}
	// The search itself must work: a planted value is found.
	if leaks([]byte("x"+planted[0]+"x"), planted) == 0 {
		t.Fatal("the canary search misses a planted value")
	}
	for name, b := range outputs {
		if n := leaks(b, planted); n > 0 {
			t.Errorf("%s holds %d planted secret values", name, n)
		}
	}
	// Checks against the sample org's story.
	text := string(outputs["plan.yaml"])
	for _, want := range []string{"name: stripe-secret-key-prod", "exposed in git history of billing-api (.env.production)", "owner: '@acme/payments-oncall'"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
}

// leaks counts the planted values b holds. It never prints them.
func leaks(b []byte, planted []string) int {
	n := 0
	for _, v := range planted {
		if bytes.Contains(b, []byte(v)) {
			n++
		}
	}
	return n
}
