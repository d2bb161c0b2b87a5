package rewrite

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

var update = flag.Bool("update", false, "update golden files")

var vaultBackend = plan.Backend{Kind: plan.BackendVault, Mount: "secret", KVVersion: 2}

// fileCases rewrite testdata/files/NAME.input and compare with
// NAME.golden. Every planted value is an obvious fake, and none may
// survive in the output.
var fileCases = []struct {
	name    string
	planted []string
	run     func(in string) (string, error)
}{
	{"env_basic", []string{"LITERAL-stripe-0123456789abcdef", "LITERAL-pg-0123456789", "LITERAL-session-0123456789", "LITERAL-multi-0123456789"},
		func(in string) (string, error) {
			out, _ := rewriteEnv(in, map[string]string{
				"STRIPE_SECRET_KEY": "vault://secret/billing-api/stripe-secret-key-dev#value",
				"DATABASE_URL":      "vault://secret/billing-api/database-url-dev#value",
				"SESSION_SECRET":    "vault://secret/billing-api/session-secret-dev#value",
				"MULTI":             "vault://secret/billing-api/multi-dev#value",
			})
			return out, nil
		}},
	{"env_crlf", []string{"LITERAL-crlf-0123456789"}, func(in string) (string, error) {
		out, _ := rewriteEnv(in, map[string]string{"TOKEN": "aws-sm://eu-west-1/app/token"})
		return out, nil
	}},
	{"envexample_update", nil, func(in string) (string, error) {
		return updateEnvExample(in, []string{"STRIPE_SECRET_KEY", "DATABASE_URL", "PORT", "LOG_LEVEL"},
			map[string]bool{"STRIPE_SECRET_KEY": true, "DATABASE_URL": true}), nil
	}},
	{"envexample_create", nil, func(in string) (string, error) {
		return updateEnvExample(in, []string{"ANTHROPIC_API_KEY", "DEBUG"}, map[string]bool{"ANTHROPIC_API_KEY": true}), nil
	}},
	{"gitignore_partial", nil, func(in string) (string, error) { return ensureGitignore(in), nil }},
	{"gitignore_complete", nil, func(in string) (string, error) { return ensureGitignore(in), nil }},
	{"gitignore_example_first", nil, func(in string) (string, error) { return ensureGitignore(in), nil }},
	{"gitignore_nonewline", nil, func(in string) (string, error) { return ensureGitignore(in), nil }},
	{"precommit_create", nil, ensurePrecommit},
	{"precommit_extend", nil, ensurePrecommit},
	{"precommit_hook_missing", nil, ensurePrecommit},
	{"precommit_present", nil, ensurePrecommit},
	{"compose", []string{"LITERAL-compose-0123456789"}, func(in string) (string, error) {
		out, _, err := replaceInYAML(in, "LITERAL-compose-0123456789", "${POSTGRES_PASSWORD}")
		return out, err
	}},
	{"workflow", []string{"LITERAL-webhook-0123456789", "LITERAL-token-0123456789"}, func(in string) (string, error) {
		out, _, err := replaceInYAML(in, "https://example.com/hooks/LITERAL-webhook-0123456789", "${{ secrets."+GitHubSecretName("SLACK_WEBHOOK_URL")+" }}")
		if err != nil {
			return "", err
		}
		out, _, err = replaceInYAML(out, "LITERAL-token-0123456789", "${{ secrets."+GitHubSecretName("api-token")+" }}")
		return out, err
	}},
	{"dockerfile", []string{"LITERAL-gh-0123456789", "LITERAL-api-0123456789", "LITERAL-legacy-0123456789"}, func(in string) (string, error) {
		out, _, err := rewriteDockerfile(in, []dockerEdit{
			{Line: 2, Value: "LITERAL-gh-0123456789", Name: "GITHUB_TOKEN"},
			{Line: 9, Value: "LITERAL-api-0123456789", Name: "API_KEY"},
			{Line: 10, Value: "LITERAL-legacy-0123456789", Name: "LEGACY_SECRET"},
		})
		return out, err
	}},
	{"k8s", []string{"LITERAL-sendgrid-0123456789", "LITERAL-session-0123456789", "TElURVJBTC1zZW5kZ3JpZC0wMTIzNDU2Nzg5"}, func(in string) (string, error) {
		out, _, err := rewriteK8s(in, vaultBackend, []k8sEdit{
			{Value: secret.New("LITERAL-sendgrid-0123456789"), Target: plan.Target{Mount: "secret", Path: "web/sendgrid-api-key-prod", Field: "value"}},
			{Value: secret.New("LITERAL-session-0123456789"), Target: plan.Target{Mount: "secret", Path: "web/session-secret-prod"}},
		})
		return out, err
	}},
}

func TestFileRewritesGolden(t *testing.T) {
	for _, tc := range fileCases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "files", tc.name+".input"))
			if err != nil {
				t.Fatal(err)
			}
			out, err := tc.run(string(in))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tc.planted {
				if strings.Contains(out, v) {
					t.Errorf("a planted value survived the rewrite")
				}
			}
			golden := filepath.Join("testdata", "files", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s:\n%s", golden, out)
			}
			if tc.name == "dockerfile" {
				return // reports the value missing on a second run, by design
			}
			// Every rewrite is idempotent.
			again, err := tc.run(out)
			if err != nil || again != out {
				t.Errorf("second run changed the file again (err %v):\n%s", err, again)
			}
		})
	}
}

func TestYAMLOutputsParse(t *testing.T) {
	for _, name := range []string{"precommit_create", "precommit_extend", "precommit_hook_missing", "compose", "workflow", "k8s"} {
		b, err := os.ReadFile(filepath.Join("testdata", "files", name+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		for {
			var v any
			if err := dec.Decode(&v); err != nil {
				if err.Error() != "EOF" {
					t.Errorf("%s: %v", name, err)
				}
				break
			}
		}
	}
}

func TestParseEnvMatchesKeys(t *testing.T) {
	src := "# c\nA=1\nexport B = \"x # not a comment\" # comment\nC='multi\nline'\n=bad\n1BAD=x\nD: yaml-style\n"
	got := envKeys(src)
	want := []string{"A", "B", "C", "D"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("keys = %v, want %v", got, want)
	}
	for _, e := range parseEnv(src) {
		if e.key == "B" && e.comment != "# comment" {
			t.Errorf("B comment = %q", e.comment)
		}
		if e.key == "C" && e.end-e.start != 2 {
			t.Errorf("C spans %d lines", e.end-e.start)
		}
	}
}

func TestGitHubSecretName(t *testing.T) {
	for in, want := range map[string]string{
		"SLACK_WEBHOOK_URL": "SLACK_WEBHOOK_URL", "api-token": "API_TOKEN",
		"GITHUB_TOKEN": "SECRET_GITHUB_TOKEN", "1PASSWORD": "SECRET_1PASSWORD",
	} {
		if got := GitHubSecretName(in); got != want {
			t.Errorf("GitHubSecretName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDockerfileErrors(t *testing.T) {
	_, _, err := rewriteDockerfile("FROM x\nLABEL k=LITERAL-label-0123456789\n", []dockerEdit{{Line: 2, Value: "LITERAL-label-0123456789", Name: "K"}})
	if err == nil || strings.Contains(err.Error(), "LITERAL") {
		t.Fatalf("LABEL secret: err = %v", err)
	}
	_, _, err = rewriteDockerfile("FROM x\n", []dockerEdit{{Line: 2, Value: "LITERAL-gone-0123456789", Name: "K"}})
	if err == nil {
		t.Fatal("a value no longer in the file must be reported")
	}
}

func TestPrecommitInvalid(t *testing.T) {
	for _, in := range []string{"repos: [\n", "- a\n- b\n", "repos: 3\n"} {
		if _, err := ensurePrecommit(in); err == nil {
			t.Errorf("ensurePrecommit(%q) should fail", in)
		}
	}
}

func TestRedactor(t *testing.T) {
	r := NewRedactor([]secret.Value{secret.New("abc123SECRET"), secret.New("abc123SECRETlonger"), {}})
	got := r.Redact("x=abc123SECRETlonger y=abc123SECRET z=" + "YWJjMTIzU0VDUkVU")
	if want := "x=**** y=**** z=****"; got != want {
		t.Fatalf("Redact = %q, want %q", got, want)
	}
}
