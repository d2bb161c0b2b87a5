package plan

import (
	"context"
	"os"
	"testing"

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
