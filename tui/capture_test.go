package tui

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

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
// golden screens (regenerate with -update after updating the goldens).
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
