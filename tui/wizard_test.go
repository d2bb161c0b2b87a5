package tui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/tui/tuitest"
)

// TestWizardSteps walks every step with key presses, comparing each
// screen with its golden file and checking the services were called with
// what the user chose.
func TestWizardSteps(t *testing.T) {
	env := newFakeEnv()
	h := newHarness(t, env.services())

	h.golden("01-roots")
	h.key("enter")
	if h.m.step != stepFindings {
		t.Fatalf("after the scan the wizard is on step %v, want the findings", h.m.step)
	}
	h.golden("03-findings")

	// Exclude the database password, mark nothing else; look at web.
	h.key("down")
	h.key("space")
	h.golden("03-findings-excluded")
	h.key("right")
	h.golden("03-findings-web")
	// The hardcoded web key is a false positive.
	h.key("f")
	if !slices.Equal(env.ignored, []string{"src/session.ts:12"}) {
		t.Fatalf("ignored = %v, want the web finding", env.ignored)
	}
	h.golden("03-findings-false-positive")

	h.key("enter")
	h.golden("04-backend-form")
	h.key("enter") // vault
	h.golden("04-backend-vault-settings")
	h.key("enter", "enter") // mount "secret", KV v2
	if h.m.be == nil {
		t.Fatalf("backend not checked: %v", h.m.err)
	}
	h.golden("04-backend-ok")

	h.key("enter")
	if h.m.p == nil {
		t.Fatalf("no plan: %v", h.m.err)
	}
	// The plan is built from the reviewed findings only.
	for _, f := range env.planned.Findings {
		if f.Key == "DATABASE_PASSWORD" || f.Path == "src/session.ts" {
			t.Errorf("the plan was given an excluded finding %s:%d", f.Path, f.Line)
		}
	}
	h.golden("05-plan")

	h.key("enter")
	h.golden("06-dry-run")
	h.key("p")
	h.golden("06-dry-run-confirm")
	h.key("y")
	if env.be.puts != 1 {
		t.Fatalf("backend writes = %d, want 1 (one secret included)", env.be.puts)
	}
	h.golden("07-pushed")

	h.key("enter")
	h.golden("08-rewrite")
	h.key("down")
	h.golden("08-rewrite-main-go")
	h.key("space", "a")
	if !slices.Equal(env.applied, []string{"billing-api/.env", "web/src/session.ts"}) {
		t.Fatalf("applied = %v, want the two accepted files", env.applied)
	}
	h.golden("08-rewrite-applied")

	h.key("enter")
	h.golden("09-checklists")
	h.key("right", "right", "right")
	h.golden("09-checklists-rollout")
	h.key("e")
	h.key("ctrl+u") // clear the default folder
	h.typeText("out/migration")
	h.golden("09-export-form")
	h.key("enter")
	if env.exported != "out/migration" {
		t.Fatalf("exported to %q, want out/migration", env.exported)
	}
	h.golden("09-exported")

	h.key("q")
	if !h.m.quitting {
		t.Fatal("q on the last step did not quit")
	}
	h.noCanary()
}

// TestBackendCheckFails shows the failure and offers a retry.
func TestBackendCheckFails(t *testing.T) {
	env := newFakeEnv()
	env.be.checkErr = errors.New("permission denied: the token cannot read sys/mounts (403)")
	h := newHarness(t, env.services())
	h.key("enter", "enter", "enter", "enter", "enter")
	if h.m.step != stepBackend || h.m.be != nil {
		t.Fatalf("step %v, backend %v: want the backend step with no backend", h.m.step, h.m.be)
	}
	h.golden("04-backend-failed")
	h.key("enter")
	if h.m.step != stepBackend {
		t.Fatal("enter moved on although the check failed")
	}
	env.be.checkErr = nil
	h.key("r")
	if h.m.be == nil {
		t.Fatal("retry after fixing the credentials did not connect")
	}
}

// TestScanningView shows a scan in progress.
func TestScanningView(t *testing.T) {
	h := newHarness(t, newFakeEnv().services())
	h.m.scan = scanStep{roots: []string{"/org"}}
	h.m.goTo(stepScan)
	h.m.busy = "scanning /org"
	h.send(progressMsg{payload: ScanProgress{Files: 1234, Findings: 17, Current: "searching git history for leaked values"}})
	h.golden("02-scanning")
}

// TestScanError reports a failed scan and retries.
func TestScanError(t *testing.T) {
	env := newFakeEnv()
	svc := env.services()
	fail := true
	scan := svc.Scan
	svc.Scan = func(ctx context.Context, roots []string, p func(ScanProgress)) (*discover.Result, error) {
		if fail {
			return nil, errors.New("open /org: permission denied")
		}
		return scan(ctx, roots, p)
	}
	h := newHarness(t, svc)
	h.key("enter")
	if h.m.err == nil || !strings.Contains(h.m.err.Error(), "permission denied") {
		t.Fatalf("err = %v, want the scan failure", h.m.err)
	}
	fail = false
	h.key("r")
	if h.m.step != stepFindings {
		t.Fatalf("retry did not reach the findings (step %v)", h.m.step)
	}
}

// TestResize re-lays every screen at several sizes: no line may be wider
// than the terminal.
func TestResize(t *testing.T) {
	env := newFakeEnv()
	h := newHarness(t, env.services())
	h.key("enter")
	sizes := [][2]int{{80, 24}, {140, 40}, {60, 15}, {100, 30}}
	check := func() {
		for _, sz := range sizes {
			h.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			v := ansi.Strip(h.m.View().Content)
			lines := strings.Split(v, "\n")
			if len(lines) > sz[1] {
				t.Errorf("step %v at %dx%d: %d lines, taller than the terminal", h.m.step, sz[0], sz[1], len(lines))
			}
			for _, l := range lines {
				if w := ansi.StringWidth(strings.TrimRight(l, " ")); w > sz[0] {
					t.Errorf("step %v at %dx%d: line %q is %d wide", h.m.step, sz[0], sz[1], l, w)
					break
				}
			}
		}
	}
	check()
	h.key("enter") // backend form
	check()
	h.key("enter", "enter", "enter", "enter") // checked, plan
	check()
	h.key("enter") // dry run
	check()
	h.key("p", "y")
	check()
	h.key("enter")
	check()
	h.key("a", "enter")
	check()
}

// TestCtrlCCancels quits from any step and cancels running operations.
func TestCtrlCCancels(t *testing.T) {
	h := newHarness(t, newFakeEnv().services())
	h.key("enter")
	h.key("ctrl+c")
	if !h.m.quitting {
		t.Fatal("ctrl+c did not quit")
	}
	if h.m.ctx.Err() == nil {
		t.Fatal("ctrl+c did not cancel the operations' context")
	}
	if v := h.m.View(); v.Content != "" {
		t.Fatal("the final view is not empty: the terminal would keep a stale screen")
	}
}

// TestCanaryCheckWorks makes sure the canary search would notice a leak:
// a finding whose path (absurdly) held a value must be caught.
func TestCanaryCheckWorks(t *testing.T) {
	env := newFakeEnv()
	env.res.Findings[0].Path = canaries[0]
	h := newHarness(t, env.services())
	h.key("enter")
	if !h.Contains(canaries) {
		t.Fatal("the canary search missed a value shown on screen")
	}
}

// TestHintsAreCutBack shows a hint only when it is a bare provider prefix.
func TestHintsAreCutBack(t *testing.T) {
	env := newFakeEnv()
	env.res.Findings[0].Hint = canaries[0][:12] + "…" // a prefix running into the random part
	h := newHarness(t, env.services())
	h.key("enter")
	if h.Contains([]string{canaries[0][:12]}) {
		t.Fatal("a hint carrying random characters of the value was shown")
	}
}

// TestNoColor: without colour (NO_COLOR) no screen carries a colour
// sequence; with colour some do.
func TestNoColor(t *testing.T) {
	colorSeq := regexp.MustCompile(`\x1b\[[0-9;]*(?:38|48);[25];`)
	for _, color := range []bool{false, true} {
		env := newFakeEnv()
		m := New(context.Background(), Options{Services: env.services(), Inline: true, Color: color, Settings: Settings{Roots: []string{"/org"}}})
		var raw []string
		d := tuitest.New(t, m, goldenW, goldenH)
		record := func(keys ...string) {
			d.Key(keys...)
			raw = append(raw, m.View().Content)
		}
		record("enter")                   // findings
		record("enter")                   // backend form
		record("enter", "enter", "enter") // checked
		record("enter")                   // plan
		record("enter")                   // dry run
		record("p", "y")                  // pushed
		record("enter", "down")           // rewrite diff
		found := false
		for _, v := range raw {
			found = found || colorSeq.MatchString(v)
		}
		if found != color {
			t.Errorf("color=%v: colour sequences found=%v", color, found)
		}
	}
}

// TestFullHelp toggles the expanded key help.
func TestFullHelp(t *testing.T) {
	h := newHarness(t, newFakeEnv().services())
	h.key("enter", "?")
	h.golden("03-findings-help")
	h.key("?")
	if h.m.help.ShowAll {
		t.Fatal("? did not fold the help again")
	}
}

func TestWrapIndent(t *testing.T) {
	got := wrapIndent("[ ] Confirm with the payments team that they own every secret listed here", 30, 4)
	want := []string{"[ ] Confirm with the payments", "    team that they own every", "    secret listed here"}
	if !slices.Equal(got, want) {
		t.Fatalf("wrapIndent = %q, want %q", got, want)
	}
}

// TestCtrlCStopsRunningPush: Ctrl+C during a background push cancels
// its context, and Wait returns once the push has stopped.
func TestCtrlCStopsRunningPush(t *testing.T) {
	env := newFakeEnv()
	svc := env.services()
	started, stopped := make(chan struct{}), make(chan error, 1)
	svc.Migrate = func(ctx context.Context, be migrate.Backend, p *plan.Plan, progress func(MigrateProgress)) (MigrateResult, error) {
		close(started)
		<-ctx.Done()
		stopped <- ctx.Err()
		return MigrateResult{}, ctx.Err()
	}
	m := New(context.Background(), Options{Services: svc}) // background operations, as in the real program
	m.Update(tea.WindowSizeMsg{Width: goldenW, Height: goldenH})
	m.result = env.res
	m.be = env.be
	m.p = fakePlan(env.res, plan.Backend{Kind: plan.BackendVault, Mount: "secret", KVVersion: 2})
	m.startPush() // its listen command is left unrun: the program would wait on it
	<-started
	_, cmd := m.Update(tuitest.KeyPress("ctrl+c"))
	if cmd == nil {
		t.Fatal("ctrl+c returned no quit command")
	}
	m.Wait()
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Fatalf("the push saw %v, want its context cancelled", err)
	}
}

// TestBackendForms: the GCP and AWS choices ask only for their own
// setting and hand it to Open.
func TestBackendForms(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		text string
		want plan.Backend
	}{
		{"gcp", []string{"down"}, "acme-prod", plan.Backend{Kind: plan.BackendGCP, Project: "acme-prod"}},
		{"aws", []string{"down", "down"}, "eu-west-3", plan.Backend{Kind: plan.BackendAWS, Region: "eu-west-3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newFakeEnv()
			svc := env.services()
			var opened plan.Backend
			svc.Open = func(ctx context.Context, b plan.Backend) (migrate.Backend, error) {
				opened = b
				return env.be, nil
			}
			h := newHarness(t, svc)
			h.key("enter", "enter") // scan, findings
			h.key(tt.keys...)
			h.key("enter")
			if tt.name == "gcp" {
				h.golden("04-backend-gcp")
			}
			h.key("enter") // empty: refused
			if opened.Kind != "" {
				t.Fatal("an empty setting was accepted")
			}
			h.typeText(tt.text)
			h.key("enter")
			if opened != tt.want {
				t.Fatalf("opened %+v, want %+v", opened, tt.want)
			}
		})
	}
}

// captureScreens are the golden screens, in wizard order, that make up
// testdata/wizard-screens.txt: a plain-text capture of the wizard for the
// README.
var captureScreens = []string{
	"01-roots", "02-scanning", "03-findings", "04-backend-vault-settings", "04-backend-ok",
	"05-plan", "06-dry-run-confirm", "07-pushed", "08-rewrite", "08-rewrite-applied",
	"09-checklists-rollout", "09-exported",
}

var blankRuns = regexp.MustCompile(`\n{3,}`)

// TestScreensCapture keeps testdata/wizard-screens.txt in step with the
// golden screens. It is the last test of the package, so that -update
// rebuilds it from freshly written goldens.
func TestScreensCapture(t *testing.T) {
	var b strings.Builder
	b.WriteString("env2vault wizard, 100x30 terminal, NO_COLOR (generated from tui/testdata/*.golden)\n")
	for _, name := range captureScreens {
		g, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		// The screen pads its body to the terminal height: keep one
		// blank line of each run.
		screen := blankRuns.ReplaceAllString(strings.TrimRight(string(g), "\n"), "\n\n")
		b.WriteString("\n" + screen + "\n")
	}
	path := filepath.Join("testdata", "wizard-screens.txt")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update)", err)
	}
	if b.String() != string(want) {
		t.Error("testdata/wizard-screens.txt is out of date: run go test ./tui -update")
	}
}
