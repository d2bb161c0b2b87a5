package plan

import (
	"strings"
	"testing"
)

func TestWords(t *testing.T) {
	tests := map[string]string{
		"anthropicAPIKey":           "anthropic api key",
		"STRIPE_SECRET_KEY":         "stripe secret key",
		"mapsKey":                   "maps key",
		"window.APP_CONFIG.mapsKey": "window app config maps key",
		"HTTPServer2Port":           "http server2 port",
		"kebab-case-name":           "kebab case name",
		"":                          "",
	}
	for in, want := range tests {
		if got := strings.Join(words(in), " "); got != want {
			t.Errorf("words(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPurpose(t *testing.T) {
	tests := []struct{ key, service, want string }{
		{"STRIPE_SECRET_KEY", "stripe", "secret-key"},
		{"ANTHROPIC_API_KEY", "anthropic", "api-key"},
		{"DATABASE_URL", "postgres", "database-url"},
		{"DATABASE_URL", "billing-api", "database-url"},
		{"VITE_MAPS_KEY", "google", "maps-key"},
		{"NEXT_PUBLIC_STRIPE_KEY", "stripe", "key"},
		{"HF_TOKEN", "huggingface", "token"},
		{"GITHUB_TOKEN", "github", "token"},
		{"SESSION_SECRET", "web", "session-secret"},
		{"WEB_SESSION_SECRET", "web", "session-secret"},
		{"STRIPE", "stripe", "secret"},
		{"SLACK_WEBHOOK_URL", "slack", "webhook-url"},
	}
	for _, tt := range tests {
		if got := Purpose(tt.key, tt.service); got != tt.want {
			t.Errorf("Purpose(%q, %q) = %q, want %q", tt.key, tt.service, got, tt.want)
		}
	}
}

func TestEnvVarFor(t *testing.T) {
	tests := []struct{ key, service, rule, want string }{
		{"anthropicAPIKey", "anthropic", "anthropic-api-key", "ANTHROPIC_API_KEY"},
		{"mapsKey", "google", "gcp-api-key", "GOOGLE_MAPS_KEY"},
		{"config.apiKey", "stripe", "stripe-access-token", "STRIPE_API_KEY"},
		{"HF_TOKEN", "huggingface", "huggingface-access-token", "HF_TOKEN"},
		{"POSTGRES_PASSWORD", "", "generic-password", "POSTGRES_PASSWORD"},
		{"", "stripe", "stripe-access-token", "STRIPE_ACCESS_TOKEN"},
		{"", "", "entropy", "SECRET"},
		{"", "", "generic-api-key", "SECRET"},
		{"token", "somethingnew", "x", "TOKEN"},
	}
	for _, tt := range tests {
		if got := EnvVarFor(tt.key, tt.service, tt.rule); got != tt.want {
			t.Errorf("EnvVarFor(%q, %q, %q) = %q, want %q", tt.key, tt.service, tt.rule, got, tt.want)
		}
	}
}

func TestEnvironmentOf(t *testing.T) {
	tests := []struct {
		path      string
		overrides map[string]string
		want      string
	}{
		{".env", nil, "dev"},
		{".env.local", nil, "dev"},
		{".env.development", nil, "dev"},
		{".env.development.local", nil, "dev"},
		{".env.staging", nil, "staging"},
		{".env.stg", nil, "staging"},
		{".env.production", nil, "prod"},
		{".env.prod", nil, "prod"},
		{".env.production.local", nil, "prod"},
		{".env.test", nil, "test"},
		{"config/prod.env", nil, "prod"},
		{".env.qa", nil, "qa"},
		{".env.QA", nil, "qa"},
		{".env.qa", map[string]string{".env.qa": "staging"}, "staging"},
		{"deploy/.env.qa", map[string]string{"deploy/*": "test"}, "test"},
		{".env.qa", map[string]string{"app/.env.qa": "prod"}, "prod"},
		{".env", map[string]string{".env.qa": "staging"}, "dev"},
	}
	for _, tt := range tests {
		if got := EnvironmentOf("app", tt.path, tt.overrides); got != tt.want {
			t.Errorf("EnvironmentOf(%q, %v) = %q, want %q", tt.path, tt.overrides, got, tt.want)
		}
	}
}

func TestParsePairs(t *testing.T) {
	m, err := ParseEnvMap(" .env.qa=staging, .env.ci = test ,")
	if err != nil {
		t.Fatal(err)
	}
	if m[".env.qa"] != "staging" || m[".env.ci"] != "test" || len(m) != 2 {
		t.Errorf("ParseEnvMap = %v", m)
	}
	for _, bad := range []string{".env.qa", "=staging", ".env.qa="} {
		if _, err := ParseEnvMap(bad); err == nil || !strings.Contains(err.Error(), "FILE=ENV") {
			t.Errorf("ParseEnvMap(%q) error = %v, want one naming FILE=ENV", bad, err)
		}
	}
	o, err := ParseOwners([]string{"web=@acme/frontend", "billing-api=@acme/payments,x=y"})
	if err != nil {
		t.Fatal(err)
	}
	if o["web"] != "@acme/frontend" || o["billing-api"] != "@acme/payments" || o["x"] != "y" {
		t.Errorf("ParseOwners = %v", o)
	}
	if _, err := ParseOwners([]string{"web"}); err == nil {
		t.Error("ParseOwners(web) succeeded")
	}
}

func TestNameTemplate(t *testing.T) {
	d := NameData{Service: "stripe", Purpose: "secret-key", Env: "prod", Key: "STRIPE_SECRET_KEY", Repo: "billing-api"}
	tests := []struct{ tmpl, want, err string }{
		{"", "stripe-secret-key-prod", ""},
		{"{{.Repo}}-{{.Key}}-{{.Env}}", "billing-api-STRIPE_SECRET_KEY-prod", ""},
		{"{{.Env}}.{{.Service}}", "prod.stripe", ""},
		{"{{.Nope}}", "", "bad name template"},
		{"{{.Service", "", "bad name template"},
		{"{{.Repo}}/{{.Key}}", "", "hold only letters"},
		{"  ", "", "hold only letters"},
	}
	for _, tt := range tests {
		nt, err := parseNameTemplate(tt.tmpl)
		var got string
		if err == nil {
			got, err = nt.render(d)
		}
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("template %q: error %v, want one containing %q", tt.tmpl, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("template %q = %q, %v; want %q", tt.tmpl, got, err, tt.want)
		}
	}
}
