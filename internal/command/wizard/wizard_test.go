package wizard

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/internal/vaulttest"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
	"github.com/env2vault/env2vault/tui"
	"github.com/env2vault/env2vault/tui/tuitest"
)

func TestNeedsTerminal(t *testing.T) {
	ios, _, _, _ := cli.Test()
	err := Run(context.Background(), &Options{IO: ios})
	if cli.Code(err) != cli.ExitFailure || !strings.Contains(err.Error(), "env2vault batch") {
		t.Fatalf("err = %v: want exit 2 pointing at batch", err)
	}
}

func TestTokenSourceNamesNoToken(t *testing.T) {
	tok := "hvs." + strings.Repeat("Z", 24)
	t.Setenv("VAULT_TOKEN", tok)
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:18200")
	got := TokenSource(plan.BackendVault)
	if strings.Contains(got, tok) {
		t.Fatal("the credential source line prints the token")
	}
	if !strings.Contains(got, "VAULT_TOKEN") || !strings.Contains(got, "http://127.0.0.1:18200") {
		t.Fatalf("TokenSource = %q: want the address and where the token comes from", got)
	}
}

func sampleOrg(t *testing.T) sampleorg.Manifest {
	t.Helper()
	t.Setenv(secret.KeyEnv, "wizard-test-fingerprint-key-0123456789")
	m, err := sampleorg.Build(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRealProgram runs the wizard in the real bubbletea runtime over the
// real scanner: scan the sample org, reach the findings, leave with
// Ctrl+C. No planted value may reach the terminal.
func TestRealProgram(t *testing.T) {
	org := sampleOrg(t)
	fp, err := secret.LoadFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	m := tui.New(context.Background(), tui.Options{
		Services: Services(fp, migrate.Options{}, filepath.Join(t.TempDir(), "out"), "test"),
		Settings: tui.Settings{Roots: []string{org.Dir}},
	})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(110, 32))
	var seen bytes.Buffer
	waitFor := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			seen.Write(b)
			return bytes.Contains(seen.Bytes(), []byte(what))
		}, teatest.WithDuration(60*time.Second), teatest.WithCheckInterval(50*time.Millisecond))
	}
	waitFor("Folders to scan")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor("include/exclude")
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	tm.WaitFinished(t, teatest.WithFinalTimeout(30*time.Second))
	fm := tm.FinalModel(t).(*tui.Model)
	fm.Wait()
	if stopped, _ := fm.Interrupted(); !stopped {
		t.Fatal("ctrl+c did not register as an interruption")
	}
	for _, v := range org.Planted() {
		if bytes.Contains(seen.Bytes(), []byte(v)) {
			t.Fatal("the terminal output holds a planted secret value")
		}
	}
}

// TestFullRunAgainstVault drives every step with key presses over the
// real packages: scan the sample org, push into the Vault dev server,
// rewrite, export. Then the vault holds every planned value, the export
// folder holds the reports, and no screen showed a planted value.
func TestFullRunAgainstVault(t *testing.T) {
	env := vaulttest.Server(t) // a fresh KV v2 mount on the dev server
	env.Setenv(t)
	org := sampleOrg(t)
	fp, err := secret.LoadFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	mount := env.KV2
	capture := os.Getenv("ENV2VAULT_WIZARD_CAPTURE") // write the screens there (README capture)
	if capture != "" {
		mount = "secret" // the dev server's own mount, for a stable-looking capture
	}
	out := filepath.Join(t.TempDir(), "export")
	m := tui.New(context.Background(), tui.Options{
		Services: Services(fp, migrate.Options{}, filepath.Join(t.TempDir(), "out"), "test"),
		Settings: tui.Settings{Roots: []string{org.Dir}, OutDir: out, Backend: plan.Backend{Kind: plan.BackendVault, Mount: mount, KVVersion: 2}},
		Inline:   true,
	})
	t.Cleanup(m.Wait)
	d := tuitest.New(t, m, 120, 40)
	screens := []string{d.View()}
	step := func(keys ...string) {
		t.Helper()
		d.Key(keys...)
		screens = append(screens, d.View())
		for _, l := range strings.Split(d.View(), "\n") {
			// Working-tree leftovers depend on what the rewriters cover
			// and are checked by the rewrite and verify packages; the
			// wizard must only show them.
			if strings.Contains(l, "✗") && !strings.Contains(l, "✗ Verification:") {
				t.Fatalf("after %v the wizard shows an error:\n%s", keys, d.View())
			}
		}
	}
	step("enter")                   // scan
	step("enter")                   // findings reviewed
	step("enter", "enter", "enter") // vault, the preset mount, KV v2 -> check
	if !strings.Contains(d.View(), "Connected and authenticated") {
		t.Fatalf("backend check did not pass:\n%s", d.View())
	}
	step("enter") // plan
	if !strings.Contains(d.View(), "to rotate") {
		t.Fatalf("no plan on screen:\n%s", d.View())
	}
	step("enter")  // dry run
	step("p", "y") // push and verify
	if !strings.Contains(d.View(), "Verified") {
		t.Fatalf("no verification on screen:\n%s", d.View())
	}
	step("enter") // rewrite
	step("a")     // apply every file, then verify
	if v := d.View(); !strings.Contains(v, "ok      backend") || strings.Contains(v, "FAILED  backend") {
		t.Fatalf("the backend verification did not pass:\n%s", v)
	}
	step("enter") // checklists
	step("e", "enter")
	for _, f := range []string{"plan.yaml", "report.md", "checklist-rollout.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("export: %v", err)
		}
	}
	if capture != "" {
		writeCapture(t, capture, screens, org.Dir, out)
	}
	step("q")
	if d.Contains(org.Planted()) {
		t.Fatal("a wizard screen showed a planted secret value")
	}
	p, err := plan.Load(filepath.Join(out, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	be, err := migrate.Open(context.Background(), p.Backend, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Secrets {
		cur, err := be.Get(context.Background(), s.Target)
		if err != nil {
			t.Fatal(err)
		}
		if !cur.Exists || !fp.Matches(cur.Value, s.Fingerprint) {
			t.Errorf("%s is not in the vault with the planned value", s.Name)
		}
	}
}

// writeCapture saves the screens as plain text, with the temporary
// folders replaced by readable names and padding blank lines folded.
func writeCapture(t *testing.T, path string, screens []string, orgDir, out string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("env2vault wizard over the sample org (internal/sampleorg), 120x40 terminal, NO_COLOR.\n")
	b.WriteString("Generated by ENV2VAULT_WIZARD_CAPTURE=FILE go test ./internal/command/wizard -run TestFullRunAgainstVault\n")
	prev := ""
	for _, s := range screens {
		s = strings.ReplaceAll(s, orgDir, "~/sample-org")
		s = strings.ReplaceAll(s, out, "~/env2vault-out")
		for strings.Contains(s, "\n\n\n") {
			s = strings.ReplaceAll(s, "\n\n\n", "\n\n")
		}
		if s == prev {
			continue
		}
		prev = s
		b.WriteString("\n" + strings.TrimRight(s, "\n") + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
