package scan

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/secret"
)

// TestCanary runs the real scan over the sample org in every format, to
// stdout and to a file, with colour and the progress line on, and checks
// that no planted value (nor its base64) appears anywhere.
func TestCanary(t *testing.T) {
	ctx := context.Background()
	m, err := sampleorg.Build(ctx, filepath.Join(t.TempDir(), "org"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(secret.KeyEnv, "env2vault-canary-test-key-0001")
	planted := m.Planted()
	if len(planted) < 20 {
		t.Fatalf("only %d planted values", len(planted))
	}
	check := func(what string, b []byte) {
		t.Helper()
		for _, v := range planted {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s holds a planted value", what)
			}
		}
	}
	outDir := t.TempDir()
	for _, format := range []string{"text", "json", "sarif", "markdown"} {
		for _, toFile := range []bool{false, true} {
			ios, _, out, errOut := cli.Test()
			ios.ErrTTY, ios.OutTTY, ios.Color = true, true, true
			args := []string{"--format", format, m.Dir}
			file := filepath.Join(outDir, "report."+format)
			if toFile {
				args = append(args, "-o", file)
			}
			cmd := NewCmd(ios)
			cmd.SetArgs(args)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			err := cmd.ExecuteContext(ctx)
			if code := cli.Code(err); code != cli.ExitFound {
				t.Fatalf("%s: exit %d (%v), want %d\n%s", format, code, err, cli.ExitFound, errOut)
			}
			check(format+" stdout", out.Bytes())
			check(format+" stderr", errOut.Bytes())
			if toFile {
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				check(format+" file", b)
				if len(b) == 0 || out.Len() != 0 {
					t.Errorf("%s: -o wrote %d bytes, stdout got %d", format, len(b), out.Len())
				}
			} else if !strings.Contains(out.String(), "STRIPE_SECRET_KEY") && format != "sarif" {
				t.Errorf("%s: report does not name STRIPE_SECRET_KEY:\n%s", format, out)
			}
		}
	}
}
