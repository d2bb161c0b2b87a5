package plan

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/env2vault/env2vault/discover"
)

func loadFixture(t *testing.T) *discover.Result {
	t.Helper()
	f, err := os.Open("testdata/sample-scan.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := ReadScan(f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var fixtureLookup = StaticLookup{
	Owners: map[string]string{
		"/org/billing-api|.env":                  "@acme/payments-oncall",
		"/org/billing-api|.env.production":       "@acme/payments-oncall",
		"/org/billing-api|Dockerfile":            "@acme/payments",
		"/org/billing-api|docker-compose.yml":    "@acme/payments",
		"/org/billing-api|internal/ai/client.go": "@acme/payments",
		"/org/web|k8s/secret.yaml":               "Dana Dev <dana@example.com>",
		"/org/web|public/config.js":              "Dana Dev <dana@example.com>",
	},
	Dates: map[string]string{
		"/org/billing-api|Dockerfile":                           "2026-01-02",
		"/org/billing-api|docker-compose.yml":                   "2026-01-02",
		"/org/billing-api|internal/ai/client.go":                "2026-01-02",
		"/org/teams/ml/ml-service|.github/workflows/deploy.yml": "2026-02-02",
		"/org/teams/ml/ml-service|ml/settings.py":               "2026-02-02",
		"/org/web|k8s/secret.yaml":                              "2026-03-02",
		"/org/web|public/config.js":                             "2026-03-02",
	},
}

func buildFixture(t *testing.T, opts BuildOptions) *Plan {
	t.Helper()
	if opts.Lookup == nil {
		opts.Lookup = fixtureLookup
	}
	p, err := Build(context.Background(), loadFixture(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuildGolden(t *testing.T) {
	p := buildFixture(t, BuildOptions{})
	b, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.golden.yaml", b)
}

func find(t *testing.T, p *Plan, name string) Secret {
	t.Helper()
	for _, s := range p.Secrets {
		if s.Name == name {
			return s
		}
	}
	var names []string
	for _, s := range p.Secrets {
		names = append(names, s.Name)
	}
	t.Fatalf("no secret %q in the plan; have %v", name, names)
	return Secret{}
}

func TestBuildRules(t *testing.T) {
	p := buildFixture(t, BuildOptions{})

	// The same value in two repos is one secret with both as consumers.
	s := find(t, p, "stripe-secret-key-dev")
	if len(s.Sources) != 2 || s.Sources[0].Repo != "billing-api" || s.Sources[1].Repo != "web" {
		t.Errorf("stripe-secret-key-dev sources = %+v, want billing-api and web", s.Sources)
	}
	if s.Target.Path != "shared/stripe-secret-key-dev" {
		t.Errorf("a secret of two repos goes to %q, want shared/...", s.Target.Path)
	}
	if s.Rotate {
		t.Errorf("stripe-secret-key-dev rotate = true (%v), want false", s.Reasons)
	}

	// A hardcoded value joins the .env secret with the same value.
	s = find(t, p, "anthropic-api-key-dev")
	if len(s.Sources) != 2 || s.Sources[1].Kind != SourceHardcoded || s.EnvVar != "ANTHROPIC_API_KEY" {
		t.Errorf("anthropic-api-key-dev = %+v", s)
	}
	if !s.Rotate || s.Reasons[0] != "hardcoded in source: billing-api/internal/ai/client.go" {
		t.Errorf("anthropic-api-key-dev reasons = %v", s.Reasons)
	}

	// A hardcoded value no .env file holds is its own "shared" secret.
	s = find(t, p, "slack-webhook-url-shared")
	if s.Environment != EnvShared || s.EnvVar != "SLACK_WEBHOOK_URL" || !s.Rotate {
		t.Errorf("slack-webhook-url-shared = %+v", s)
	}

	// History, frontend and multi-environment values must be rotated.
	if s := find(t, p, "stripe-secret-key-prod"); !s.Rotate || s.Reasons[0] != "exposed in git history of billing-api (.env.production)" {
		t.Errorf("stripe-secret-key-prod reasons = %v", s.Reasons)
	}
	if s := find(t, p, "google-maps-key-dev"); !s.Rotate || s.Reasons[0] != "exposed in frontend code: web/public/config.js" {
		t.Errorf("google-maps-key-dev reasons = %v", s.Reasons)
	}
	for _, n := range []string{"web-session-secret-dev", "web-session-secret-prod"} {
		if s := find(t, p, n); !s.Rotate || s.Reasons[0] != "same value used in dev and prod" {
			t.Errorf("%s reasons = %v", n, s.Reasons)
		}
	}

	// Consumers: readers in repos that define the key.
	s = find(t, p, "stripe-secret-key-prod")
	want := []Consumer{{"billing-api", ".env.production", "defines"}, {"billing-api", "main.go", "reads"}}
	if diff := cmp.Diff(want, s.Consumers); diff != "" {
		t.Errorf("stripe-secret-key-prod consumers (-want +got):\n%s", diff)
	}

	// Config and placeholder entries are not planned.
	for _, s := range p.Secrets {
		if s.EnvVar == "PORT" || s.EnvVar == "LOG_LEVEL" || s.EnvVar == "DEBUG" {
			t.Errorf("config entry %s was planned", s.EnvVar)
		}
		for _, src := range s.Sources {
			if src.Path == ".env.example" {
				t.Errorf("placeholder in .env.example was planned as %s", s.Name)
			}
		}
	}
	if err := Validate(p); err != nil {
		t.Errorf("Build made an invalid plan: %v", err)
	}
}

func TestBuildDeterministic(t *testing.T) {
	res := loadFixture(t)
	first, err := Build(context.Background(), res, BuildOptions{Lookup: fixtureLookup})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Marshal(first)
	for seed := uint64(1); seed <= 5; seed++ {
		shuffled := *res
		shuffled.Findings = slices.Clone(res.Findings)
		r := rand.New(rand.NewPCG(seed, seed))
		r.Shuffle(len(shuffled.Findings), func(i, j int) {
			shuffled.Findings[i], shuffled.Findings[j] = shuffled.Findings[j], shuffled.Findings[i]
		})
		p, err := Build(context.Background(), &shuffled, BuildOptions{Lookup: fixtureLookup})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := Marshal(p)
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Fatalf("shuffling findings (seed %d) changed the plan:\n%s", seed, diff)
		}
	}
}

func TestBuildIDIgnoresRootsAndActions(t *testing.T) {
	a := buildFixture(t, BuildOptions{})
	res := loadFixture(t)
	res.Roots = []string{"/elsewhere"}
	for i := range res.Findings {
		res.Findings[i].Root = "/elsewhere"
	}
	for i := range res.Repos {
		res.Repos[i].Root = "/elsewhere"
	}
	b, err := Build(context.Background(), res, BuildOptions{Lookup: relocated(fixtureLookup, "/org", "/elsewhere")})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID {
		t.Errorf("moving the scan root changed the plan ID: %s vs %s", a.ID, b.ID)
	}
	b.Secrets[0].Action = ActionNoop
	b.DiffStatus = "live"
	b.Refresh()
	if a.ID != b.ID {
		t.Errorf("a live diff changed the plan ID")
	}
	b.Secrets[0].Owner = "@someone/else"
	b.Refresh()
	if a.ID == b.ID {
		t.Errorf("changing an owner kept the plan ID")
	}
}

func relocated(l StaticLookup, from, to string) StaticLookup {
	out := StaticLookup{Owners: map[string]string{}, Dates: map[string]string{}}
	for k, v := range l.Owners {
		out.Owners[strings.Replace(k, from, to, 1)] = v
	}
	for k, v := range l.Dates {
		out.Dates[strings.Replace(k, from, to, 1)] = v
	}
	return out
}

func TestBuildBackends(t *testing.T) {
	tests := []struct {
		be   Backend
		want Target
	}{
		{Backend{}, Target{Mount: "secret", Path: "billing-api/stripe-secret-key-prod", Field: "value"}},
		{Backend{Kind: BackendVault, Mount: "/kv/"}, Target{Mount: "kv", Path: "billing-api/stripe-secret-key-prod", Field: "value"}},
		{Backend{Kind: BackendGCP, Project: "acme"}, Target{Project: "acme", SecretID: "stripe-secret-key-prod"}},
		{Backend{Kind: BackendAWS, Region: "eu-west-1"}, Target{Region: "eu-west-1", Name: "billing-api/stripe-secret-key-prod"}},
	}
	for _, tt := range tests {
		p := buildFixture(t, BuildOptions{Backend: tt.be})
		if diff := cmp.Diff(tt.want, find(t, p, "stripe-secret-key-prod").Target); diff != "" {
			t.Errorf("backend %+v target (-want +got):\n%s", tt.be, diff)
		}
		if err := Validate(p); err != nil {
			t.Errorf("backend %+v: invalid plan: %v", tt.be, err)
		}
	}
	for _, tt := range []struct {
		be   Backend
		want string
	}{
		{Backend{Kind: BackendGCP}, "--gcp-project"},
		{Backend{Kind: BackendAWS}, "--aws-region"},
		{Backend{Kind: "azure"}, `unknown backend "azure"`},
		{Backend{Kind: BackendVault, KVVersion: 3}, "KV version"},
	} {
		_, err := Build(context.Background(), loadFixture(t), BuildOptions{Backend: tt.be, Lookup: fixtureLookup})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Build with %+v: error %v, want one containing %q", tt.be, err, tt.want)
		}
	}
}

func TestBuildOverrides(t *testing.T) {
	p := buildFixture(t, BuildOptions{
		EnvMap:       map[string]string{".env.production": "live"},
		Owners:       map[string]string{"web": "@acme/frontend", "teams/ml/ml-service": "@acme/ml"},
		NameTemplate: "{{.Repo}}-{{.Key}}-{{.Env}}",
	})
	s := find(t, p, "billing-api-STRIPE_SECRET_KEY-live")
	if s.Environment != "live" {
		t.Errorf("env map: environment = %q", s.Environment)
	}
	if s := find(t, p, "web-SENDGRID_API_KEY-dev"); s.Owner != "@acme/frontend" {
		t.Errorf("owner override by repo name: %q", s.Owner)
	}
	if s := find(t, p, "ml-service-OPENAI_API_KEY-dev"); s.Owner != "@acme/ml" {
		t.Errorf("owner override by repo path: %q", s.Owner)
	}
}

func TestBuildNameCollisions(t *testing.T) {
	fp := func(n string) string { return "hmac-sha256:" + strings.Repeat(n, 32) }
	env := func(repo, path string, line int, key, v string) discover.Finding {
		return discover.Finding{Kind: discover.KindEnvFile, Root: "/r", Repo: repo, Path: path, Line: line, Key: key,
			Service: "stripe", Classification: discover.ClassSecret, Fingerprint: fp(v)}
	}
	res := &discover.Result{Findings: []discover.Finding{
		env("web", ".env", 1, "STRIPE_SECRET_KEY", "a"),
		env("api", ".env", 1, "STRIPE_SECRET_KEY", "b"),
		env("api", ".env.local", 1, "STRIPE_SECRET_KEY", "c"),
		env("api", ".env", 2, "STRIPE_KEY", "d"),
	}}
	p, err := Build(context.Background(), res, BuildOptions{Lookup: StaticLookup{}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Secrets {
		got = append(got, s.Name+"="+s.Sources[0].Repo+"/"+s.Sources[0].Path)
	}
	want := []string{
		"stripe-key-dev=api/.env",
		"stripe-secret-key-dev=api/.env",
		"stripe-secret-key-dev-2=api/.env.local",
		"web-stripe-secret-key-dev=web/.env",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func TestBuildErrors(t *testing.T) {
	res := &discover.Result{Findings: []discover.Finding{{Kind: discover.KindEnvFile, Repo: "app", Path: ".env", Line: 3, Key: "K", Classification: discover.ClassSecret}}}
	_, err := Build(context.Background(), res, BuildOptions{Lookup: StaticLookup{}})
	if err == nil || !strings.Contains(err.Error(), "app/.env:3") || !strings.Contains(err.Error(), "fingerprint") {
		t.Errorf("missing fingerprint: error %v", err)
	}
	if _, err := Build(context.Background(), nil, BuildOptions{}); err == nil {
		t.Error("Build(nil) succeeded")
	}
	if _, err := Build(context.Background(), loadFixture(t), BuildOptions{NameTemplate: "{{.Bad"}); err == nil {
		t.Error("a bad name template was accepted")
	}
	p, err := Build(context.Background(), &discover.Result{}, BuildOptions{Lookup: StaticLookup{}})
	if err != nil || len(p.Secrets) != 0 {
		t.Errorf("empty scan: %v, %d secrets", err, len(p.Secrets))
	}
	if err := Validate(p); err != nil {
		t.Errorf("empty plan invalid: %v", err)
	}
}

func TestBuildHistoryReasons(t *testing.T) {
	fp := "hmac-sha256:" + strings.Repeat("a", 32)
	envF := func(path string, hist, tracked bool) discover.Finding {
		return discover.Finding{Kind: discover.KindEnvFile, Root: "/r", Repo: "app", Path: path, Line: 1, Key: "API_TOKEN",
			Classification: discover.ClassSecret, Fingerprint: fp, InHistory: hist, Tracked: tracked}
	}
	hard := discover.Finding{Kind: discover.KindHardcoded, Root: "/r", Repo: "app", Path: "src/a.js", Line: 2, Key: "apiToken",
		Classification: discover.ClassSecret, Context: discover.ContextSource, Fingerprint: fp, InHistory: true, Tracked: true}
	tests := []struct {
		name     string
		findings []discover.Finding
		repos    []discover.Repo
		want     []string
	}{
		{"untracked, never committed", []discover.Finding{envF(".env", false, false)}, nil, nil},
		{"tracked .env", []discover.Finding{envF(".env", true, true)}, nil, []string{"exposed in git history of app (.env)"}},
		{"committed then removed", []discover.Finding{envF(".env.production", false, false)},
			[]discover.Repo{{Root: "/r", Name: "app", CommittedEnvFiles: []string{".env.production"}}},
			[]string{"exposed in git history of app (.env.production)"}},
		{"value in history elsewhere", []discover.Finding{envF(".env", true, false)}, nil, []string{"value found in the git history of app"}},
		{"explained by a hardcoded copy", []discover.Finding{envF(".env", true, false), hard}, nil, []string{"hardcoded in source: app/src/a.js"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Build(context.Background(), &discover.Result{Repos: tt.repos, Findings: tt.findings}, BuildOptions{Lookup: StaticLookup{}})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Secrets) != 1 {
				t.Fatalf("%d secrets, want 1", len(p.Secrets))
			}
			if diff := cmp.Diff(tt.want, p.Secrets[0].Reasons); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if p.Secrets[0].Rotate != (len(tt.want) > 0) {
				t.Errorf("rotate = %v", p.Secrets[0].Rotate)
			}
		})
	}
}

func TestBuildRejectsInvalidGCPNames(t *testing.T) {
	_, err := Build(context.Background(), loadFixture(t), BuildOptions{Lookup: fixtureLookup,
		Backend: Backend{Kind: BackendGCP, Project: "acme"}, NameTemplate: "{{.Env}}.{{.Service}}.{{.Purpose}}"})
	if err == nil || !strings.Contains(err.Error(), "not a valid Secret Manager id") {
		t.Errorf("dotted names on GCP: %v", err)
	}
}
