package detect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestGitleaksCLIParity compares a full scan of $GOROOT/src with a report
// of the gitleaks CLI on the same tree:
//
//	gitleaks dir "$(go env GOROOT)/src" -r /tmp/gl.json --report-format json --exit-code 0
//	ENV2VAULT_GITLEAKS_REPORT=/tmp/gl.json go test ./discover/detect -run CLIParity
//
// Every finding of the CLI (rule, file, line) must be among the leaks.
func TestGitleaksCLIParity(t *testing.T) {
	report := os.Getenv("ENV2VAULT_GITLEAKS_REPORT")
	if report == "" {
		t.Skip("set ENV2VAULT_GITLEAKS_REPORT to a gitleaks JSON report of $GOROOT/src")
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var findings []struct {
		RuleID             string
		File               string
		StartLine, EndLine int
	}
	if err := json.Unmarshal(b, &findings); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(runtime.GOROOT(), "src")
	d := detector(t)
	cache := map[string][]Leak{}
	missing := 0
	for _, f := range findings {
		rel, err := filepath.Rel(root, f.File)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Fatalf("report file %s is not under %s", f.File, root)
		}
		leaks, ok := cache[rel]
		if !ok {
			data, err := os.ReadFile(f.File)
			if err != nil {
				t.Fatal(err)
			}
			leaks = d.Scan(filepath.ToSlash(rel), data)
			cache[rel] = leaks
		}
		found := false
		for _, l := range leaks {
			if l.Rule == f.RuleID && l.Line >= f.StartLine && l.Line <= max(f.EndLine, f.StartLine) {
				found = true
			}
		}
		if !found {
			missing++
			t.Errorf("gitleaks found %s in %s:%d; the scan did not", f.RuleID, rel, f.StartLine)
		}
	}
	t.Logf("%d gitleaks findings, %d missing", len(findings), missing)
}
