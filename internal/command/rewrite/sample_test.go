package rewrite

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// fingerprintKey keys the test plan's fingerprints (not a secret).
const fingerprintKey = "env2vault-rewrite-e2e-fingerprint-key"

// sampleSecret is one secret of the sample org as a plan would list it.
type sampleSecret struct {
	name, env, envVar string
	// value builds the secret's value from the planted values.
	value func(m sampleorg.Manifest) string
	srcs  []plan.Source
}

func planted(name string) func(m sampleorg.Manifest) string {
	return func(m sampleorg.Manifest) string { return m.Values[name] }
}

func envSrc(repo, path string, line int, key string) plan.Source {
	return plan.Source{Repo: repo, Path: path, Line: line, Key: key, Kind: plan.SourceEnvFile}
}

func hardSrc(repo, path string, line int, ctx discover.Context) plan.Source {
	return plan.Source{Repo: repo, Path: path, Line: line, Kind: plan.SourceHardcoded, Context: string(ctx)}
}

// sampleSecrets is what scan + plan find in the sample org (see
// testdata/sample-org): one secret per distinct value per environment.
var sampleSecrets = []sampleSecret{
	{"billing-api-stripe-secret-key-dev", "dev", "STRIPE_SECRET_KEY", planted("stripe-test"), []plan.Source{
		envSrc("billing-api", ".env", 2, "STRIPE_SECRET_KEY"), envSrc("web", ".env", 1, "STRIPE_SECRET_KEY")}},
	{"billing-api-stripe-secret-key-prod", "prod", "STRIPE_SECRET_KEY", planted("stripe-live"), []plan.Source{
		envSrc("billing-api", ".env.production", 2, "STRIPE_SECRET_KEY")}},
	{"billing-api-database-url-dev", "dev", "DATABASE_URL", func(m sampleorg.Manifest) string {
		return "postgres://billing:" + m.Values["pg-dev-password"] + "@localhost:5432/billing"
	}, []plan.Source{envSrc("billing-api", ".env", 3, "DATABASE_URL")}},
	{"billing-api-database-url-prod", "prod", "DATABASE_URL", func(m sampleorg.Manifest) string {
		return "postgres://billing:" + m.Values["pg-prod-password"] + "@db.internal:5432/billing"
	}, []plan.Source{envSrc("billing-api", ".env.production", 3, "DATABASE_URL")}},
	{"billing-api-postgres-password", "shared", "POSTGRES_PASSWORD", planted("pg-compose-password"), []plan.Source{
		hardSrc("billing-api", "docker-compose.yml", 13, discover.ContextCompose)}},
	{"billing-api-github-token", "shared", "GITHUB_TOKEN", planted("github-pat"), []plan.Source{
		hardSrc("billing-api", "Dockerfile", 2, discover.ContextDockerfile)}},
	{"ml-service-anthropic-api-key-dev", "dev", "ANTHROPIC_API_KEY", planted("anthropic"), []plan.Source{
		envSrc("teams/ml/ml-service", ".env", 1, "ANTHROPIC_API_KEY"),
		hardSrc("billing-api", "internal/ai/client.go", 5, discover.ContextSource)}},
	{"ml-service-openai-api-key-dev", "dev", "OPENAI_API_KEY", planted("openai"), []plan.Source{
		envSrc("teams/ml/ml-service", ".env", 2, "OPENAI_API_KEY")}},
	{"ml-service-hf-token", "shared", "HF_TOKEN", planted("huggingface"), []plan.Source{
		hardSrc("teams/ml/ml-service", "ml/settings.py", 4, discover.ContextSource)}},
	{"ml-service-slack-webhook-url", "shared", "SLACK_WEBHOOK_URL", planted("slack-webhook"), []plan.Source{
		hardSrc("teams/ml/ml-service", ".github/workflows/deploy.yml", 9, discover.ContextCI)}},
	{"web-sendgrid-api-key-dev", "dev", "SENDGRID_API_KEY", planted("sendgrid"), []plan.Source{
		envSrc("web", ".env", 2, "SENDGRID_API_KEY")}},
	{"web-sendgrid-api-key-prod", "prod", "SENDGRID_API_KEY", planted("sendgrid-prod"), []plan.Source{
		envSrc("web", ".env.production", 1, "SENDGRID_API_KEY"),
		hardSrc("web", "k8s/secret.yaml", 7, discover.ContextKubernetes)}},
	{"web-session-secret-dev", "dev", "SESSION_SECRET", planted("session-secret"), []plan.Source{
		envSrc("web", ".env", 3, "SESSION_SECRET")}},
	{"web-session-secret-prod", "prod", "SESSION_SECRET", planted("session-secret"), []plan.Source{
		envSrc("web", ".env.production", 2, "SESSION_SECRET")}},
	{"web-vite-maps-key-dev", "dev", "VITE_MAPS_KEY", planted("google-maps"), []plan.Source{
		envSrc("web", ".env", 4, "VITE_MAPS_KEY"),
		hardSrc("web", "public/config.js", 3, discover.ContextFrontend)}},
}

// sampleReads are the env reads of planned keys in the sample apps.
var sampleReads = []plan.Read{
	{Repo: "billing-api", Path: "main.go", Line: 18, Key: "STRIPE_SECRET_KEY", Language: "go"},
	{Repo: "billing-api", Path: "main.go", Line: 19, Key: "DATABASE_URL", Language: "go"},
	{Repo: "teams/ml/ml-service", Path: "app.py", Line: 16, Key: "ANTHROPIC_API_KEY", Language: "python"},
	{Repo: "teams/ml/ml-service", Path: "app.py", Line: 17, Key: "OPENAI_API_KEY", Language: "python"},
	{Repo: "web", Path: "src/server.js", Line: 4, Key: "SENDGRID_API_KEY", Language: "javascript"},
	{Repo: "web", Path: "src/server.js", Line: 10, Key: "STRIPE_SECRET_KEY", Language: "javascript"},
	{Repo: "web", Path: "src/server.js", Line: 11, Key: "SESSION_SECRET", Language: "javascript"},
}

// samplePlan builds the plan for the sample org in root by hand, with
// fingerprints under fingerprintKey, and returns each secret's value by
// name (test-only, in memory).
func samplePlan(t *testing.T, root string, m sampleorg.Manifest) (*plan.Plan, map[string]string) {
	t.Helper()
	fp, err := secret.NewFingerprinter([]byte(fingerprintKey))
	if err != nil {
		t.Fatal(err)
	}
	p := &plan.Plan{
		SchemaVersion: plan.SchemaVersion,
		Roots:         []string{root},
		Backend:       plan.Backend{Kind: plan.BackendVault, Mount: "secret", KVVersion: 2},
		DiffStatus:    "offline: test",
	}
	values := map[string]string{}
	for _, s := range sampleSecrets {
		v := s.value(m)
		if v == "" || strings.HasPrefix(v, "postgres://billing:@") {
			t.Fatalf("sample value for %s is missing from the manifest", s.name)
		}
		values[s.name] = v
		repo := s.srcs[0].Repo
		srcs := make([]plan.Source, len(s.srcs))
		for i, src := range s.srcs {
			src.Root = root
			srcs[i] = src
		}
		p.Secrets = append(p.Secrets, plan.Secret{
			Name: s.name, Service: "test", Purpose: "test", Environment: s.env, EnvVar: s.envVar,
			Owner: "@acme/test", Fingerprint: fp.Fingerprint(secret.New(v)), Sources: srcs,
			Target: plan.Target{Mount: "secret", Path: repo[strings.LastIndex(repo, "/")+1:] + "/" + s.name, Field: "value"},
			Action: plan.ActionCreate, Consumers: []plan.Consumer{},
		})
	}
	for _, r := range sampleReads {
		r.Root = root
		p.Reads = append(p.Reads, r)
	}
	for _, r := range m.Repos {
		p.Repos = append(p.Repos, plan.RepoInfo{Root: root, Name: r, Git: true})
	}
	p.Refresh()
	if err := plan.Validate(p); err != nil {
		t.Fatalf("hand-built plan is invalid: %v", err)
	}
	return p, values
}

// diskResolver re-reads values from the sample org as discover.Resolve
// does: an .env entry by key (a reference left by a rewrite comes back as
// is), a hardcoded value by looking for it (or its base64) in the file.
func diskResolver(p *plan.Plan, values map[string]string) func(context.Context, discover.Location) (secret.Value, error) {
	want := map[string]string{}
	for _, s := range p.Secrets {
		for _, src := range s.Sources {
			want[fmt.Sprintf("%s/%s:%d", src.Repo, src.Path, src.Line)] = values[s.Name]
		}
	}
	return func(_ context.Context, loc discover.Location) (secret.Value, error) {
		b, err := os.ReadFile(filepath.Join(loc.Root, filepath.FromSlash(loc.Repo), filepath.FromSlash(loc.Path)))
		if err != nil {
			return secret.Value{}, err
		}
		v := want[fmt.Sprintf("%s/%s:%d", loc.Repo, loc.Path, loc.Line)]
		text := string(b)
		if strings.Contains(text, v) || strings.Contains(text, base64.StdEncoding.EncodeToString([]byte(v))) {
			return secret.New(v), nil
		}
		if loc.Kind == discover.KindEnvFile {
			for _, line := range strings.Split(text, "\n") {
				line = strings.TrimPrefix(strings.TrimSpace(line), "export ")
				if k, val, ok := strings.Cut(line, "="); ok && k == loc.Key && plan.IsReference(val) {
					return secret.New(val), nil
				}
			}
		}
		return secret.Value{}, errors.New("the value is not there any more")
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
