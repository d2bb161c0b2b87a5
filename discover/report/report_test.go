package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/secret"
)

var update = flag.Bool("update", false, "update golden files")

const canary = "CANARYVALUE_do_not_print_0123456789"

func sample() *discover.Result {
	v := secret.New(canary)
	return &discover.Result{
		SchemaVersion: discover.SchemaVersion,
		Roots:         []string{"org"},
		Repos: []discover.Repo{
			{Root: "org", Name: ".", Git: false},
			{Root: "org", Name: "api", Git: true, CommittedEnvFiles: []string{".env.production"}},
			{Root: "org", Name: "web", Git: true},
		},
		Findings: []discover.Finding{
			{Kind: discover.KindEnvFile, Root: "org", Repo: ".", Path: "notes/.env", Line: 1, Column: 1, Key: "TOKEN", Rule: "keyword", Classification: discover.ClassSecret, Reason: "secret-sounding name", Value: v, Fingerprint: "hmac-sha256:00"},
			{Kind: discover.KindEnvFile, Root: "org", Repo: "api", Path: ".env", Line: 2, Column: 1, Key: "STRIPE_SECRET_KEY", Rule: "stripe-access-token", Service: "stripe", Classification: discover.ClassSecret, Reason: "stripe key format", Hint: "sk_test_…", Value: v, Fingerprint: "hmac-sha256:11"},
			{Kind: discover.KindEnvFile, Root: "org", Repo: "api", Path: ".env", Line: 3, Column: 1, Key: "PORT", Classification: discover.ClassConfig, Reason: "a port number", Value: secret.New("8080")},
			{Kind: discover.KindEnvFile, Root: "org", Repo: "api", Path: ".env.example", Line: 1, Column: 1, Key: "STRIPE_SECRET_KEY", Classification: discover.ClassPlaceholder, Reason: "placeholder | text", Tracked: true},
			{Kind: discover.KindHardcoded, Root: "org", Repo: "api", Path: "main.go", Line: 5, Column: 22, Rule: "anthropic-api-key", Service: "anthropic", Classification: discover.ClassSecret, Context: discover.ContextSource,
				// A hint that carries random characters is never printed.
				Hint: "sk-ant-api03-" + canary[:6] + "…", Value: v, Fingerprint: "hmac-sha256:22", Tracked: true, InHistory: true},
			{Kind: discover.KindEnvRead, Root: "org", Repo: "api", Path: "main.go", Line: 9, Column: 10, Key: "STRIPE_SECRET_KEY", Language: "go", Tracked: true},
			{Kind: discover.KindHardcoded, Root: "org", Repo: "web", Path: "k8s/secret.yaml", Line: 7, Column: 3, Rule: "sendgrid-api-token", Service: "sendgrid", Classification: discover.ClassSecret, Context: discover.ContextKubernetes, Hint: "SG.…", Value: v, Tracked: true, InHistory: true},
		},
		Unused:    []discover.KeyLink{{Repo: "api", Key: "PORT", Paths: []string{".env"}}},
		Undefined: []discover.KeyLink{{Repo: "web", Key: "VITE_API_BASE", Paths: []string{"src/config.ts"}}},
		Skipped: []discover.Skip{
			{Path: "org/api/.env.broken", Reason: discover.SkipMalformed, Detail: "line 3: unterminated double quote"},
			{Path: "org/web/logo.png", Reason: discover.SkipBinary},
			{Path: "org/web/node_modules", Reason: discover.SkipIgnoredDir, Detail: "folder name in the skip list"},
		},
		Stats: discover.Stats{Repos: 3, FilesScanned: 12, BytesScanned: 3456, Skipped: 3, Secrets: 4, Ignored: 1},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, d)
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		f    Format
		opts Options
	}{
		{"report.txt", Text, Options{}},
		{"report-color.txt", Text, Options{Color: true}},
		{"report.json", JSON, Options{}},
		{"report.sarif", SARIF, Options{Version: "1.2.3"}},
		{"report.md", Markdown, Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, sample(), c.f, c.opts); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(buf.Bytes(), []byte(canary[:6])) {
				t.Fatalf("%s output holds the canary value", c.name)
			}
			golden(t, c.name, buf.Bytes())
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sample(), JSON, Options{}); err != nil {
		t.Fatal(err)
	}
	var back discover.Result
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	want := sample()
	for i := range want.Findings {
		want.Findings[i].Value = secret.Value{}
		want.Findings[i].Hint = discover.SafeHint(want.Findings[i].Hint)
	}
	if d := cmp.Diff(want, &back, cmp.Comparer(func(a, b secret.Value) bool { return a.Reveal() == b.Reveal() })); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

func TestSARIFSingleRepoURIs(t *testing.T) {
	res := sample()
	res.Repos = res.Repos[1:2]
	var buf bytes.Buffer
	if err := Write(&buf, res, SARIF, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"uri": "main.go"`) || strings.Contains(buf.String(), `"uri": "api/main.go"`) {
		t.Errorf("single-repo SARIF should use repo-relative URIs:\n%s", buf.String())
	}
}

func TestSafeHint(t *testing.T) { // discover.SafeHint, checked where reports rely on it
	for in, want := range map[string]string{
		"sk_live_…":                          "sk_live_…",
		"AKIA…":                              "AKIA…",
		"https://hooks.slack.com/services/…": "https://hooks.slack.com/services/…",
		"sk_live_4eC3…":                      "",
		"AKIAIOSF…":                          "",
		"sk_live_":                           "",
		"":                                   "",
		"…":                                  "",
	} {
		if got := discover.SafeHint(in); got != want {
			t.Errorf("SafeHint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	if f, err := ParseFormat("sarif"); err != nil || f != SARIF {
		t.Errorf("ParseFormat(sarif) = %v, %v", f, err)
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "text, json, sarif, markdown") {
		t.Errorf("ParseFormat(xml) error = %v", err)
	}
}
