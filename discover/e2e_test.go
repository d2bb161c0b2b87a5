package discover_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/discover/report"
	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/secret"
)

var update = flag.Bool("update", false, "update golden files")

type row struct {
	Repo, Path string
	Line       int
	Kind       discover.Kind
	Key        string
	Class      discover.Classification
	Context    discover.Context
	Hist, Trk  bool
}

const (
	env  = discover.KindEnvFile
	hard = discover.KindHardcoded
	read = discover.KindEnvRead
	sec  = discover.ClassSecret
	cfg  = discover.ClassConfig
	ph   = discover.ClassPlaceholder
)

// want is every finding in the sample org, with the real detectors.
var want = []row{
	{"billing-api", ".env", 2, env, "STRIPE_SECRET_KEY", sec, "", false, false},
	{"billing-api", ".env", 3, env, "DATABASE_URL", sec, "", false, false},
	{"billing-api", ".env", 4, env, "PORT", cfg, "", false, false},
	{"billing-api", ".env", 5, env, "LOG_LEVEL", cfg, "", false, false},
	{"billing-api", ".env.example", 1, env, "STRIPE_SECRET_KEY", ph, "", false, true},
	{"billing-api", ".env.example", 2, env, "DATABASE_URL", ph, "", false, true},
	{"billing-api", ".env.example", 3, env, "PORT", cfg, "", false, true},
	{"billing-api", ".env.example", 4, env, "LOG_LEVEL", cfg, "", false, true},
	// Committed once, then untracked: the values are in history.
	{"billing-api", ".env.production", 2, env, "STRIPE_SECRET_KEY", sec, "", true, false},
	{"billing-api", ".env.production", 3, env, "DATABASE_URL", sec, "", true, false},
	{"billing-api", ".env.production", 4, env, "PORT", cfg, "", false, false},
	{"billing-api", ".env.production", 5, env, "LOG_LEVEL", cfg, "", false, false},
	{"billing-api", "Dockerfile", 2, hard, "GITHUB_TOKEN", sec, discover.ContextDockerfile, true, true},
	{"billing-api", "docker-compose.yml", 13, hard, "POSTGRES_PASSWORD", sec, discover.ContextCompose, true, true},
	{"billing-api", "internal/ai/client.go", 5, hard, "anthropicAPIKey", sec, discover.ContextSource, true, true},
	{"billing-api", "main.go", 18, read, "STRIPE_SECRET_KEY", "", "", false, true},
	{"billing-api", "main.go", 19, read, "DATABASE_URL", "", "", false, true},
	{"billing-api", "main.go", 23, read, "PORT", "", "", false, true},
	{"billing-api", "main.go", 24, read, "LOG_LEVEL", "", "", false, true},
	{"teams/ml/ml-service", ".env", 1, env, "ANTHROPIC_API_KEY", sec, "", false, false},
	{"teams/ml/ml-service", ".env", 2, env, "OPENAI_API_KEY", sec, "", false, false},
	{"teams/ml/ml-service", ".env", 3, env, "DEBUG", cfg, "", false, false},
	{"teams/ml/ml-service", ".env.example", 1, env, "ANTHROPIC_API_KEY", ph, "", false, true},
	{"teams/ml/ml-service", ".env.example", 2, env, "OPENAI_API_KEY", ph, "", false, true},
	{"teams/ml/ml-service", ".env.example", 3, env, "DEBUG", cfg, "", false, true},
	{"teams/ml/ml-service", ".env.local", 2, env, "OPENAI_API_KEY", ph, "", false, false},
	{"teams/ml/ml-service", ".env.local", 3, env, "DEBUG", cfg, "", false, false},
	{"teams/ml/ml-service", ".github/workflows/deploy.yml", 9, hard, "SLACK_WEBHOOK_URL", sec, discover.ContextCI, true, true},
	{"teams/ml/ml-service", "app.py", 16, read, "ANTHROPIC_API_KEY", "", "", false, true},
	{"teams/ml/ml-service", "app.py", 17, read, "OPENAI_API_KEY", "", "", false, true},
	{"teams/ml/ml-service", "app.py", 18, read, "DEBUG", "", "", false, true},
	{"teams/ml/ml-service", "ml/settings.py", 4, hard, "HF_TOKEN", sec, discover.ContextSource, true, true},
	{"web", ".env", 1, env, "STRIPE_SECRET_KEY", sec, "", false, false},
	{"web", ".env", 2, env, "SENDGRID_API_KEY", sec, "", false, false},
	{"web", ".env", 3, env, "SESSION_SECRET", sec, "", false, false},
	// The same value ships in public/config.js, which is committed.
	{"web", ".env", 4, env, "VITE_MAPS_KEY", sec, "", true, false},
	{"web", ".env", 5, env, "PORT", cfg, "", false, false},
	{"web", ".env.example", 1, env, "STRIPE_SECRET_KEY", ph, "", false, true},
	{"web", ".env.example", 2, env, "SENDGRID_API_KEY", ph, "", false, true},
	{"web", ".env.example", 3, env, "SESSION_SECRET", ph, "", false, true},
	{"web", ".env.example", 4, env, "VITE_MAPS_KEY", ph, "", false, true},
	{"web", ".env.example", 5, env, "PORT", cfg, "", false, true},
	// Its base64 is in the committed k8s/secret.yaml.
	{"web", ".env.production", 1, env, "SENDGRID_API_KEY", sec, "", true, false},
	{"web", ".env.production", 2, env, "SESSION_SECRET", sec, "", false, false},
	{"web", ".env.production", 3, env, "PORT", cfg, "", false, false},
	{"web", "k8s/secret.yaml", 7, hard, "SENDGRID_API_KEY", sec, discover.ContextKubernetes, true, true},
	{"web", "public/config.js", 3, hard, "mapsKey", sec, discover.ContextFrontend, true, true},
	{"web", "src/config.ts", 2, read, "VITE_MAPS_KEY", "", "", false, true},
	{"web", "src/config.ts", 3, read, "VITE_API_BASE", "", "", false, true},
	{"web", "src/server.js", 4, read, "SENDGRID_API_KEY", "", "", false, true},
	{"web", "src/server.js", 10, read, "STRIPE_SECRET_KEY", "", "", false, true},
	{"web", "src/server.js", 11, read, "SESSION_SECRET", "", "", false, true},
	{"web", "src/server.js", 12, read, "PORT", "", "", false, true},
}

const testKey = "env2vault-e2e-test-fingerprint-key"

func scanSampleOrg(t *testing.T) (*discover.Result, sampleorg.Manifest) {
	t.Helper()
	ctx := context.Background()
	m, err := sampleorg.Build(ctx, filepath.Join(t.TempDir(), "org"))
	if err != nil {
		t.Fatal(err)
	}
	fp, err := secret.NewFingerprinter([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	res, err := discover.Scan(ctx, discover.Options{Paths: []string{m.Dir}, Fingerprinter: fp})
	if err != nil {
		t.Fatal(err)
	}
	return res, m
}

func TestSampleOrg(t *testing.T) {
	res, m := scanSampleOrg(t)
	var got []row
	for _, f := range res.Findings {
		got = append(got, row{f.Repo, f.Path, f.Line, f.Kind, f.Key, f.Classification, f.Context, f.InHistory, f.Tracked})
		if f.Root != m.Dir {
			t.Errorf("%s/%s: root %q, want %q", f.Repo, f.Path, f.Root, m.Dir)
		}
		if strings.Contains(f.Path, "node_modules") {
			t.Errorf("node_modules trap reported: %s", f.Path)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}

	fp := func(repo, path string, line int) string {
		for _, f := range res.Findings {
			if f.Repo == repo && f.Path == path && f.Line == line {
				return f.Fingerprint
			}
		}
		t.Fatalf("no finding at %s/%s:%d", repo, path, line)
		return ""
	}
	if a, b := fp("billing-api", "internal/ai/client.go", 5), fp("teams/ml/ml-service", ".env", 1); a == "" || a != b {
		t.Errorf("billing-api's hardcoded anthropic key and ml-service's ANTHROPIC_API_KEY should share a fingerprint: %q vs %q", a, b)
	}
	if a, b := fp("billing-api", ".env", 2), fp("web", ".env", 1); a == "" || a != b {
		t.Errorf("the two STRIPE_SECRET_KEY entries should share a fingerprint: %q vs %q", a, b)
	}
	if a, b := fp("billing-api", ".env", 2), fp("billing-api", ".env.production", 2); a == b {
		t.Error("test and live stripe keys must not share a fingerprint")
	}

	var repos []discover.Repo
	for _, r := range res.Repos {
		r.Root = ""
		repos = append(repos, r)
	}
	wantRepos := []discover.Repo{
		{Name: "billing-api", Git: true, CommittedEnvFiles: []string{".env.example", ".env.production"}},
		{Name: "teams/ml/ml-service", Git: true, CommittedEnvFiles: []string{".env.example"}},
		{Name: "web", Git: true, CommittedEnvFiles: []string{".env.example"}},
	}
	if d := cmp.Diff(wantRepos, repos); d != "" {
		t.Errorf("repos (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]discover.KeyLink{{Repo: "web", Key: "VITE_API_BASE", Paths: []string{"src/config.ts"}}}, res.Undefined); d != "" {
		t.Errorf("read_not_defined (-want +got):\n%s", d)
	}
	if len(res.Unused) != 0 {
		t.Errorf("defined_not_read = %+v, want none", res.Unused)
	}
	// Every secret resolves back to the value the scan saw.
	for _, f := range res.Findings {
		if !f.IsSecret() {
			continue
		}
		loc := discover.Location{Root: f.Root, Repo: f.Repo, Path: f.Path, Line: f.Line, Key: f.Key, Rule: f.Rule, Kind: f.Kind}
		v, err := discover.Resolve(context.Background(), loc)
		if err != nil {
			t.Errorf("Resolve(%s): %v", loc, err)
		} else if !v.Equal(f.Value) {
			t.Errorf("Resolve(%s) gave a different value", loc)
		}
	}

	wantSkip := []discover.Skip{{Path: filepath.Join(m.Dir, "web", "node_modules"), Reason: discover.SkipIgnoredDir, Detail: "folder name in the skip list"}}
	if d := cmp.Diff(wantSkip, res.Skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
}

// TestSampleOrgJSON pins the whole JSON report (rules, services, reasons,
// hints, fingerprints under a fixed key).
func TestSampleOrgJSON(t *testing.T) {
	res, m := scanSampleOrg(t)
	var buf bytes.Buffer
	if err := report.Write(&buf, res, report.JSON, report.Options{}); err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(buf.String(), m.Dir, "$ORG")
	for _, v := range m.Planted() {
		if strings.Contains(got, v) {
			t.Fatal("the JSON report holds a planted value")
		}
	}
	p := filepath.Join("testdata", "sample-org.json")
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if d := cmp.Diff(string(b), got); d != "" {
		t.Errorf("sample-org.json differs (-want +got):\n%s", d)
	}
}
