package detect

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/secret"
)

// scanTree scans every regular file under each repo of the sample org,
// the way the discover walker would (skipping .git and node_modules).
func scanTree(t *testing.T, d *Detector, root string, repos []string) map[string][]Leak {
	t.Helper()
	out := map[string][]Leak{}
	for _, repo := range repos {
		dir := filepath.Join(root, filepath.FromSlash(repo))
		err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() && (e.Name() == ".git" || e.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if !e.Type().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			rel = filepath.ToSlash(rel)
			if leaks := d.Scan(rel, b); len(leaks) > 0 {
				out[repo+"/"+rel] = leaks
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestSampleOrg(t *testing.T) {
	dir := t.TempDir()
	m, err := sampleorg.Build(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := scanTree(t, d, dir, m.Repos)

	tests := []struct {
		file, fake                    string
		line                          int
		rule, service, key, ctx, hint string
	}{
		{"billing-api/internal/ai/client.go", "anthropic", 5, "anthropic-api-key", "anthropic", "anthropicAPIKey", ContextSource, "sk-ant-api03-…"},
		{"teams/ml/ml-service/ml/settings.py", "huggingface", 4, "huggingface-access-token", "huggingface", "HF_TOKEN", ContextSource, "hf_…"},
		{"billing-api/Dockerfile", "github-pat", 2, "github-pat", "github", "GITHUB_TOKEN", ContextDockerfile, "ghp_…"},
		{"billing-api/docker-compose.yml", "pg-compose-password", 13, "", "postgres", "POSTGRES_PASSWORD", ContextCompose, ""},
		{"teams/ml/ml-service/.github/workflows/deploy.yml", "slack-webhook", 9, "slack-webhook-url", "slack", "SLACK_WEBHOOK_URL", ContextCI, "https://hooks.slack.com/…"},
		{"web/public/config.js", "google-maps", 3, "gcp-api-key", "google", "mapsKey", ContextFrontend, "AIza…"},
		{"web/k8s/secret.yaml", "sendgrid-prod", 7, "sendgrid-api-token", "sendgrid", "SENDGRID_API_KEY", ContextKubernetes, "SG.…"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			want := m.Values[tt.fake]
			var found *Leak
			for i, l := range got[tt.file] {
				if l.Value.Reveal() == want {
					found = &got[tt.file][i]
				}
			}
			if found == nil {
				t.Fatalf("planted %s not found; leaks: %s", tt.fake, describe(got[tt.file]))
			}
			l := *found
			if l.Line != tt.line || l.Key != tt.key || l.Context != tt.ctx || l.Service != tt.service || l.Hint != tt.hint {
				t.Errorf("got %s", describe([]Leak{l}))
			}
			if tt.rule != "" && l.Rule != tt.rule {
				t.Errorf("rule = %q, want %q", l.Rule, tt.rule)
			}
			// The column points at the value itself.
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(b), "\n")
			if tt.ctx != ContextKubernetes {
				if at := lines[l.Line-1][l.Column-1:]; !strings.HasPrefix(at, want) {
					t.Errorf("column %d does not point at the value", l.Column)
				}
			}
		})
	}

	// Canary: no printable part of any leak holds a planted value.
	for file, leaks := range got {
		for _, l := range leaks {
			text := fmt.Sprintf("%v %+v %#v %s %s %s %s", l, l, l, l.Reason, l.Key, l.Hint, l.Rule)
			for _, v := range m.Planted() {
				if strings.Contains(text, v) {
					t.Fatalf("%s: a planted value appears in a printable field", file)
				}
			}
		}
	}

	// Nothing else is reported as a hardcoded secret: placeholders in
	// .env.example files, code that reads variables and config values
	// stay quiet. (.env files are ClassifyEntry's business, but Scan on
	// them must not flag their placeholders either.)
	for file, leaks := range got {
		for _, l := range leaks {
			if strings.Contains(file, ".env") {
				if strings.HasSuffix(file, ".example") {
					t.Errorf("%s: placeholder reported: %s", file, describe([]Leak{l}))
				}
				continue
			}
			known := false
			for _, tt := range tests {
				if tt.file == file && l.Value.Reveal() == m.Values[tt.fake] {
					known = true
				}
			}
			if !known {
				t.Errorf("%s: unexpected leak %s", file, describe([]Leak{l}))
			}
		}
	}
}

// describe prints leaks for test failures; values stay redacted.
func describe(leaks []Leak) string {
	var b strings.Builder
	for _, l := range leaks {
		fmt.Fprintf(&b, "{%d:%d rule=%s svc=%s key=%s ctx=%s hint=%s reason=%q value=%v} ",
			l.Line, l.Column, l.Rule, l.Service, l.Key, l.Context, l.Hint, l.Reason, l.Value)
	}
	return b.String()
}

// TestSampleOrgEnvFiles classifies every entry of the sample org's .env
// files.
func TestSampleOrgEnvFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := sampleorg.Build(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	d := detector(t)
	want := map[string]map[string]string{
		"billing-api/.env":                 {"STRIPE_SECRET_KEY": ClassSecret, "DATABASE_URL": ClassSecret, "PORT": ClassConfig, "LOG_LEVEL": ClassConfig},
		"billing-api/.env.production":      {"STRIPE_SECRET_KEY": ClassSecret, "DATABASE_URL": ClassSecret, "PORT": ClassConfig, "LOG_LEVEL": ClassConfig},
		"billing-api/.env.example":         {"STRIPE_SECRET_KEY": ClassPlaceholder, "DATABASE_URL": ClassPlaceholder, "PORT": ClassConfig, "LOG_LEVEL": ClassConfig},
		"teams/ml/ml-service/.env":         {"ANTHROPIC_API_KEY": ClassSecret, "OPENAI_API_KEY": ClassSecret, "DEBUG": ClassConfig},
		"teams/ml/ml-service/.env.local":   {"OPENAI_API_KEY": ClassPlaceholder, "DEBUG": ClassConfig},
		"teams/ml/ml-service/.env.example": {"ANTHROPIC_API_KEY": ClassPlaceholder, "OPENAI_API_KEY": ClassPlaceholder, "DEBUG": ClassConfig},
		"web/.env":                         {"STRIPE_SECRET_KEY": ClassSecret, "SENDGRID_API_KEY": ClassSecret, "SESSION_SECRET": ClassSecret, "VITE_MAPS_KEY": ClassSecret, "PORT": ClassConfig},
		"web/.env.production":              {"SENDGRID_API_KEY": ClassSecret, "SESSION_SECRET": ClassSecret, "PORT": ClassConfig},
		"web/.env.example":                 {"STRIPE_SECRET_KEY": ClassPlaceholder, "SENDGRID_API_KEY": ClassPlaceholder, "SESSION_SECRET": ClassPlaceholder, "VITE_MAPS_KEY": ClassPlaceholder, "PORT": ClassConfig},
	}
	wantService := map[string]string{"STRIPE_SECRET_KEY": "stripe", "DATABASE_URL": "postgres", "ANTHROPIC_API_KEY": "anthropic",
		"OPENAI_API_KEY": "openai", "SENDGRID_API_KEY": "sendgrid", "VITE_MAPS_KEY": "google"}
	for file, entries := range want {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimPrefix(strings.TrimSpace(line), "export ")
			k, v, ok := strings.Cut(line, "=")
			if !ok || strings.HasPrefix(line, "#") {
				continue
			}
			v = strings.Trim(v, `"'`)
			vd := d.ClassifyEntry(k, secret.New(v))
			if vd.Class != entries[k] {
				t.Errorf("%s %s: %s (%s), want %s", file, k, vd.Class, vd.Reason, entries[k])
			}
			if vd.Class == ClassSecret && wantService[k] != "" && vd.Service != wantService[k] {
				t.Errorf("%s %s: service %q, want %q", file, k, vd.Service, wantService[k])
			}
		}
	}
}
