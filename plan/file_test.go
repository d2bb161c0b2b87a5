package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	p := buildFixture(t, BuildOptions{})
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, p); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("plan file mode = %v, want 0644", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("Save left files behind: %v", entries)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("Load(Save(p)) differs (-want +got):\n%s", diff)
	}
	// Saving the loaded plan gives the same bytes: clean diffs on re-plan.
	a, _ := Marshal(p)
	b, _ := Marshal(got)
	if !bytes.Equal(a, b) {
		t.Error("re-saving a loaded plan changed it")
	}
}

func TestSaveFailsCleanly(t *testing.T) {
	p := buildFixture(t, BuildOptions{})
	err := Save(filepath.Join(t.TempDir(), "missing", "plan.yaml"), p)
	if err == nil || !strings.Contains(err.Error(), "plan.yaml") {
		t.Errorf("Save into a missing folder: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	valid, err := Marshal(buildFixture(t, BuildOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string {
		if !strings.Contains(string(valid), old) {
			t.Fatalf("fixture plan lacks %q", old)
		}
		return strings.Replace(string(valid), old, new, 1)
	}
	tests := []struct {
		name, text string
		want       []string
	}{
		{"empty", "", []string{"empty"}},
		{"corrupt yaml", "schema_version: 1\nsecrets: [\n", []string{"not a valid plan file"}},
		{"not a mapping", "- a\n- b\n", []string{"not a valid plan file"}},
		{"no schema version", "id: x\n", []string{"schema_version: missing"}},
		{"newer schema", edit("schema_version: 1", "schema_version: 2\nfuture_field: x"), []string{"schema_version: is 2", "version 1"}},
		{"schema version text", edit("schema_version: 1", "schema_version: one"), []string{"schema_version: must be a number"}},
		{"unknown field", edit("diff_status:", "colour: red\ndiff_status:"), []string{"colour", "not found"}},
		{"unknown backend", edit("kind: vault", "kind: azure"), []string{`backend.kind: unknown backend "azure"`}},
		{"missing mount", edit("  mount: secret\n  kv_version", "  kv_version"), []string{"backend.mount: required"}},
		{"missing name", edit("  - name: anthropic-api-key-dev\n", "  - name: \"\"\n"), []string{"secrets[0].name: required"}},
		{"duplicate name", edit("name: billing-api-postgres-password-shared", "name: anthropic-api-key-dev"), []string{"secrets[1] (anthropic-api-key-dev).name", "already the name of secrets[0]"}},
		{"bad action", edit("action: create", "action: delete"), []string{`secrets[0] (anthropic-api-key-dev).action: unknown action "delete"`}},
		{"missing fingerprint", edit("fingerprint: hmac-sha256:c70eca6b0f88f44d81a41311647e50fd", "fingerprint: \"\""), []string{"secrets[0] (anthropic-api-key-dev).fingerprint: required"}},
		{"bad source kind", edit("kind: env-file", "kind: dotenv"), []string{"sources[0].kind", `"dotenv"`}},
		{"missing target path", edit("path: shared/anthropic-api-key-dev\n", "path: \"\"\n"), []string{"secrets[0] (anthropic-api-key-dev).target.path: required"}},
		{"duplicate item id", edit("id: planning.layout", "id: inventory.review"), []string{`"inventory.review" is used twice`}},
		{"unknown phase", edit("name: Rollout", "name: Party"), []string{`unknown phase "Party"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "plan.yaml")
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "nope.yaml")); err == nil || !strings.Contains(err.Error(), "reading the plan") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestValidateCollectsAllProblems(t *testing.T) {
	p := &Plan{SchemaVersion: 1, Backend: Backend{Kind: BackendAWS}, Secrets: []Secret{{Name: "a b", Action: "x"}}}
	err := Validate(p)
	if err == nil {
		t.Fatal("Validate accepted a broken plan")
	}
	for _, w := range []string{"backend.region", "secrets[0] (a b).name", ".environment", ".fingerprint", ".action", ".sources", ".target.region", ".target.name"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}
