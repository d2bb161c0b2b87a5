package checklist

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/plan"
)

func execute(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ios, _, out, errOut := cli.Test()
	cmd := NewCmd(ios)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(context.Background())
	var ee *cli.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.Err != nil) {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), cli.Code(err)
}

func planFile(t *testing.T) string {
	t.Helper()
	res, err := plan.LoadScans("../../../plan/testdata/sample-scan.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(context.Background(), res, plan.BuildOptions{Lookup: plan.StaticLookup{}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.yaml")
	if err := plan.Save(path, p); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestChecklistCommand(t *testing.T) {
	path := planFile(t)
	out, stderr, code := execute(t, "--plan", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, h := range []string{"## Inventory", "## Planning", "## Implementation", "## Rollout", "- [ ] Install the gitleaks pre-commit hook in web"} {
		if !strings.Contains(out, h) {
			t.Errorf("markdown lacks %q", h)
		}
	}
	out, _, code = execute(t, "--plan", path, "--phase", "rollout")
	if code != 0 || strings.Contains(out, "## Inventory") || !strings.Contains(out, "## Rollout") {
		t.Errorf("--phase rollout: exit %d\n%s", code, out)
	}
	out, _, code = execute(t, "--plan", path, "--phase", "implementation", "--format", "json")
	var cl plan.ChecklistJSON
	if err := json.Unmarshal([]byte(out), &cl); err != nil || code != 0 {
		t.Fatalf("json: exit %d, %v", code, err)
	}
	if len(cl.Phases) != 1 || cl.Phases[0].Name != "Implementation" || len(cl.Phases[0].Items) == 0 || cl.Phases[0].Items[0].Phase != "implementation" {
		t.Errorf("json checklist = %+v", cl)
	}
}

func TestChecklistCommandErrors(t *testing.T) {
	path := planFile(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("schema_version: 9\n"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--plan", path, "--phase", "party"}, `unknown phase "party"`},
		{[]string{"--plan", path, "--format", "csv"}, `unknown --format "csv"`},
		{[]string{"--plan", filepath.Join(t.TempDir(), "none.yaml")}, "reading the plan"},
		{[]string{"--plan", bad}, "schema_version: is 9"},
		{[]string{"--plan", path, "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		_, stderr, code := execute(t, tt.args...)
		if code == 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("checklist %v: exit %d, stderr %q; want failure with %q", tt.args, code, stderr, tt.want)
		}
	}
}
