package rewrite_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/rewrite"
)

func TestBackendKind(t *testing.T) {
	for in, want := range map[string]string{
		"":                plan.BackendVault,
		plan.BackendVault: plan.BackendVault,
		plan.BackendGCP:   plan.BackendGCP,
		plan.BackendAWS:   plan.BackendAWS,
		"other":           "other",
	} {
		if got := rewrite.BackendKind(plan.Backend{Kind: in}); got != want {
			t.Errorf("BackendKind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBindingTable(t *testing.T) {
	vault := plan.Backend{Kind: plan.BackendVault, Mount: "secret", KVVersion: 2}
	bind := func(envVar, env string, tg plan.Target) rewrite.Binding {
		return rewrite.Binding{EnvVar: envVar, Environment: env, SecretName: strings.ToLower(envVar), Target: tg}
	}
	tests := []struct {
		name     string
		backend  plan.Backend
		bindings []rewrite.Binding
		want     []rewrite.BindingRow
		wantErr  string
	}{
		{
			name:    "vault rows and environments sorted, field defaults to value",
			backend: vault,
			bindings: []rewrite.Binding{
				bind("STRIPE_KEY", "prod", plan.Target{Mount: "secret", Path: "billing/stripe", Field: "key"}),
				bind("DB_PASSWORD", "staging", plan.Target{Mount: "secret", Path: "billing/db-stg"}),
				bind("DB_PASSWORD", "dev", plan.Target{Mount: "kv1", Path: "billing/db"}),
			},
			want: []rewrite.BindingRow{
				{EnvVar: "DB_PASSWORD", Envs: []string{"dev", "staging"}, Targets: map[string][]string{
					"dev":     {"kv1", "billing/db", "value"},
					"staging": {"secret", "billing/db-stg", "value"},
				}},
				{EnvVar: "STRIPE_KEY", Envs: []string{"prod"}, Targets: map[string][]string{
					"prod": {"secret", "billing/stripe", "key"},
				}},
			},
		},
		{
			name:     "empty kind is vault",
			backend:  plan.Backend{},
			bindings: []rewrite.Binding{bind("A", "dev", plan.Target{Mount: "m", Path: "p", Field: "f", Project: "ignored"})},
			want:     []rewrite.BindingRow{{EnvVar: "A", Envs: []string{"dev"}, Targets: map[string][]string{"dev": {"m", "p", "f"}}}},
		},
		{
			name:     "gcp project and secret id",
			backend:  plan.Backend{Kind: plan.BackendGCP, Project: "acme"},
			bindings: []rewrite.Binding{bind("A", "dev", plan.Target{Project: "acme-dev", SecretID: "a", Mount: "ignored"})},
			want:     []rewrite.BindingRow{{EnvVar: "A", Envs: []string{"dev"}, Targets: map[string][]string{"dev": {"acme-dev", "a"}}}},
		},
		{
			name:    "aws region defaults to the backend's",
			backend: plan.Backend{Kind: plan.BackendAWS, Region: "eu-west-1"},
			bindings: []rewrite.Binding{
				bind("A", "prod", plan.Target{Name: "svc/a"}),
				bind("A", "dev", plan.Target{Region: "us-east-1", Name: "svc/a-dev"}),
			},
			want: []rewrite.BindingRow{{EnvVar: "A", Envs: []string{"dev", "prod"}, Targets: map[string][]string{
				"dev":  {"us-east-1", "svc/a-dev"},
				"prod": {"eu-west-1", "svc/a"},
			}}},
		},
		{
			name:    "the same binding twice counts once",
			backend: vault,
			bindings: []rewrite.Binding{
				bind("A", "dev", plan.Target{Mount: "secret", Path: "a"}),
				bind("A", "dev", plan.Target{Mount: "secret", Path: "a", Field: "value"}),
			},
			want: []rewrite.BindingRow{{EnvVar: "A", Envs: []string{"dev"}, Targets: map[string][]string{"dev": {"secret", "a", "value"}}}},
		},
		{
			name:     "no bindings",
			backend:  vault,
			bindings: nil,
			want:     []rewrite.BindingRow{},
		},
		{
			name:    "bound twice to different secrets",
			backend: vault,
			bindings: []rewrite.Binding{
				bind("A", "dev", plan.Target{Mount: "secret", Path: "a"}),
				bind("A", "dev", plan.Target{Mount: "secret", Path: "b"}),
			},
			wantErr: `A is bound twice in environment "dev", to different secrets`,
		},
		{
			name:     "no environment",
			backend:  vault,
			bindings: []rewrite.Binding{{EnvVar: "A", SecretName: "a"}},
			wantErr:  `binding for "a" has no environment variable or environment`,
		},
		{
			name:     "no environment variable",
			backend:  vault,
			bindings: []rewrite.Binding{{Environment: "dev", SecretName: "a"}},
			wantErr:  `binding for "a" has no environment variable or environment`,
		},
		{
			name:     "unknown backend",
			backend:  plan.Backend{Kind: "azure"},
			bindings: []rewrite.Binding{bind("A", "dev", plan.Target{})},
			wantErr:  `unknown backend "azure"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rewrite.BindingTable(tt.backend, tt.bindings)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("BindingTable (-want +got):\n%s", diff)
			}
		})
	}
}
