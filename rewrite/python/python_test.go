package python

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/internal/envsite"
	"github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/secret"
)

var update = flag.Bool("update", false, "update golden files")

func keys(k ...string) map[string]bool {
	m := map[string]bool{}
	for _, s := range k {
		m[s] = true
	}
	return m
}

func lit(line int, v, env string) rewrite.Literal {
	return rewrite.Literal{Line: line, Value: secret.New(v), EnvVar: env}
}

// secretKeys are the planned keys every golden case uses; PORT, DEBUG,
// LOG_LEVEL and TIMEOUT are configuration and must stay.
var secretKeys = keys("STRIPE_SECRET_KEY", "DATABASE_URL", "SESSION_SECRET", "OPENAI_API_KEY",
	"ANTHROPIC_API_KEY", "SENDGRID_API_KEY", "SLACK_WEBHOOK_URL")

var goldenCases = []struct {
	name    string
	edit    rewrite.Edit
	changed int
}{
	{"environ_subscript", rewrite.Edit{Keys: secretKeys}, 3},
	{"environ_get", rewrite.Edit{Keys: secretKeys}, 2},
	{"getenv", rewrite.Edit{Keys: secretKeys}, 2},
	{"from_import", rewrite.Edit{Keys: secretKeys}, 2},
	{"alias", rewrite.Edit{Keys: secretKeys}, 1},
	{"comments_formatting", rewrite.Edit{Keys: secretKeys}, 2},
	{"literal", rewrite.Edit{Keys: secretKeys, Literals: []rewrite.Literal{lit(4, "LITERAL-hf-token-0123456789abcdef", "HF_TOKEN")}}, 2},
	{"config_only", rewrite.Edit{Keys: secretKeys, Literals: []rewrite.Literal{lit(3, "LITERAL-absent-0123456789", "X")}}, 0},
	{"same_line", rewrite.Edit{Keys: secretKeys}, 1},
	{"no_imports", rewrite.Edit{Literals: []rewrite.Literal{lit(2, "LITERAL-token-abcdef0123456789", "SCRIPT_TOKEN")}}, 1},
	{"already_imported", rewrite.Edit{Keys: secretKeys}, 1},
	{"crlf", rewrite.Edit{Keys: secretKeys}, 1},
}

func TestRewriteGolden(t *testing.T) {
	l := New()
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tc.name+".input"))
			if err != nil {
				t.Fatal(err)
			}
			out, n, err := l.Rewrite(tc.name+".py", in, tc.edit)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.changed {
				t.Errorf("changed = %d, want %d", n, tc.changed)
			}
			if n == 0 && !bytes.Equal(out, in) {
				t.Errorf("a file with nothing to change must come back byte for byte")
			}
			for _, lit := range tc.edit.Literals {
				if bytes.Contains(out, []byte(lit.Value.Reveal())) {
					t.Errorf("output still holds a planted literal (env %s)", lit.EnvVar)
				}
			}
			if !parses(out) {
				t.Errorf("output has syntax errors (tree-sitter)")
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("output differs from %s:\n%s", golden, out)
			}
			again, n2, err := l.Rewrite(tc.name+".py", out, tc.edit)
			if err != nil || n2 != 0 || !bytes.Equal(again, out) {
				t.Errorf("second rewrite: changed %d, err %v", n2, err)
			}
		})
	}
}

// TestGoldenCompiles runs python3 -m py_compile on every golden file.
func TestGoldenCompiles(t *testing.T) {
	py := python(t)
	goldens, _ := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if len(goldens) == 0 {
		t.Fatal("no golden files")
	}
	dir := t.TempDir()
	for _, g := range goldens {
		src, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, strings.TrimSuffix(filepath.Base(g), ".golden")+".py")
		if err := os.WriteFile(p, src, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(py, "-m", "py_compile", p).CombinedOutput(); err != nil {
			t.Errorf("%s does not compile: %v\n%s", g, err, out)
		}
	}
}

func TestRewriteErrors(t *testing.T) {
	l := New()
	if _, _, err := l.Rewrite("a.py", []byte("def (:\n  os.environ['A']\n"), rewrite.Edit{Keys: keys("A")}); err == nil || !strings.Contains(err.Error(), "syntax error near line 1") {
		t.Errorf("syntax error: got %v", err)
	}
	if _, _, err := l.Rewrite("a.js", []byte("x"), rewrite.Edit{}); err == nil {
		t.Error("a non-Python path was accepted")
	}
	_, _, err := l.Rewrite("a.py", []byte("K = 'LITERAL-0123456789abcdef'\n"), rewrite.Edit{Literals: []rewrite.Literal{lit(1, "LITERAL-0123456789abcdef", "")}})
	if err == nil || strings.Contains(err.Error(), "LITERAL-") {
		t.Errorf("literal without env var: got %v", err)
	}
}

func TestMatch(t *testing.T) {
	l := New()
	for p, want := range map[string]bool{"app.py": true, "ml/settings.py": true, "env2vault_secrets.py": false, "a.pyc": false, "a.js": false,
		".venv/lib/python3.11/site-packages/x/y.py": false, "venv/bin/z.py": false} {
		if got := l.Match(p); got != want {
			t.Errorf("Match(%q) = %v", p, got)
		}
	}
}

func parses(src []byte) bool {
	ok := false
	_ = envsite.Parse(envsite.Python, src, func(tr *envsite.Tree) error {
		ok = !tr.Root.HasError()
		return nil
	})
	return ok
}

func python(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed for this test: %v", err)
	}
	return p
}

func BenchmarkRewrite(b *testing.B) {
	var src strings.Builder
	src.WriteString("\"\"\"Module.\"\"\"\nimport os\n\n")
	for i := 0; i < 200; i++ {
		src.WriteString("def f" + strconv.Itoa(i) + "(x):\n    key = os.environ.get(\"STRIPE_SECRET_KEY\", \"\")\n    port = os.getenv(\"PORT\")\n    return [x * 2 for x in range(10)], key, port\n\n")
	}
	in := []byte(src.String())
	l := New()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, n, err := l.Rewrite("big.py", in, rewrite.Edit{Keys: secretKeys}); err != nil || n != 200 {
			b.Fatalf("%d, %v", n, err)
		}
	}
}
