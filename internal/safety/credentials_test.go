package safety

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/internal/command/root"
)

// credentialFlag matches flag names that would take a credential.
var credentialFlag = regexp.MustCompile(`(?i)token|passw|secret|credential|api-?key|access-?key|private-?key|auth`)

// TestNoCredentialFlags walks the whole command tree: no command takes a
// token, password or key as a flag (flags end up in shell history and
// process listings). Credentials come from the environment and the
// backends' own conventions (VAULT_TOKEN or the token helper, ADC, the
// AWS chain).
func TestNoCredentialFlags(t *testing.T) {
	ios, _, _, _ := cli.Test()
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		check := func(f *pflag.Flag) {
			n++
			if credentialFlag.MatchString(f.Name) {
				t.Errorf("%s has a --%s flag: credentials never come from flags", c.CommandPath(), f.Name)
			}
		}
		c.Flags().VisitAll(check)
		c.PersistentFlags().VisitAll(check)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root.New(ios))
	if n < 40 {
		t.Fatalf("only %d flags seen; the walk missed commands", n)
	}
}

// TestPlainHTTPRefused points VAULT_ADDR at a plain-http, non-loopback
// address: every command that would send the token refuses before any
// connection (no DNS lookup of the .invalid host happens: the message is
// the refusal, not a resolver error), naming https:// and --insecure-http.
func TestPlainHTTPRefused(t *testing.T) {
	sb := newSandbox(t)
	t.Setenv("VAULT_ADDR", "http://vault.env2vault.invalid:8200")
	t.Setenv("VAULT_TOKEN", "never-sent")
	t.Setenv("VAULT_CACERT", "")
	repo := filepath.Join(sb.base, "org", "svc")
	os.MkdirAll(repo, 0o755)
	os.WriteFile(filepath.Join(repo, ".env.production"), []byte("API_TOKEN="+randomToken(t, 30)+"\n"), 0o600)
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	planFile := filepath.Join(sb.out, "plan.yaml")
	r := execute(t, "plan", "-o", planFile, filepath.Dir(repo))
	if r.code != 1 || !strings.Contains(r.stdout, "refusing to send the Vault token over plain http://") {
		t.Errorf("plan should fall back to an offline plan saying why:\n%s", r.show(nil))
	}
	self, _ := os.Executable()
	t.Setenv(childEnv, "digest")
	t.Setenv(digestKeysEnv, "API_TOKEN")
	for _, args := range [][]string{
		{"migrate", "--plan", planFile, "--yes"},
		{"migrate", "--plan", planFile, "--dry-run"},
		{"verify", "--plan", planFile},
		{"rewrite", "--plan", planFile, "--yes"},
		{"run", "--plan", planFile, "--env", "prod", "--", self},
		{"batch", "--yes", "--out", filepath.Join(sb.out, "batch"), filepath.Dir(repo)},
	} {
		r := execute(t, args...)
		expectFailure(t, r, 2, []string{"refusing to send the Vault token over plain http:// to vault.env2vault.invalid:8200", "https://"})
		if strings.Contains(r.stderr, "no such host") || strings.Contains(r.stderr, "lookup") {
			t.Errorf("%s looked the host up before refusing:\n%s", args[0], r.stderr)
		}
	}
}
