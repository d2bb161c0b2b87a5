package golang

import (
	"bytes"
	"flag"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/secret"
)

var update = flag.Bool("update", false, "update golden files")

// forModule returns the rewriter bound to module example.com/app.
func forModule(t testing.TB) rewrite.Language {
	t.Helper()
	l, err := New().ForRepo(rewrite.Repo{Read: func(p string) ([]byte, error) {
		if p == "go.mod" {
			return []byte("module example.com/app\n\ngo 1.22\n"), nil
		}
		return nil, fs.ErrNotExist
	}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func lit(line int, v, env string) rewrite.Literal {
	return rewrite.Literal{Line: line, Value: secret.New(v), EnvVar: env}
}

func keys(k ...string) map[string]bool {
	m := map[string]bool{}
	for _, s := range k {
		m[s] = true
	}
	return m
}

// goldenCases are the call-site shapes the Go rewriter handles. Literal
// values are obviously fake and not provider-shaped.
var goldenCases = []struct {
	name    string
	edit    rewrite.Edit
	changed int
}{
	{"getenv", rewrite.Edit{Keys: keys("STRIPE_SECRET_KEY")}, 1},
	{"lookupenv_ifinit", rewrite.Edit{Keys: keys("DATABASE_URL")}, 1},
	{"const_literal", rewrite.Edit{Literals: []rewrite.Literal{
		lit(5, "LITERAL-anthropic-0123456789abcdef", "ANTHROPIC_API_KEY"),
		lit(12, "LITERAL-org-token-abcdef0123456789", "ORG_TOKEN"),
		lit(19, "LITERAL-typed-token-0123456789ab", "TYPED_TOKEN"),
		lit(23, "LITERAL-local-const-0123456789ab", "LOCAL_TOKEN"),
	}}, 4},
	{"var_literal", rewrite.Edit{Literals: []rewrite.Literal{
		lit(5, "LITERAL-hf-token-0123456789abcdef", "HF_TOKEN"),
		lit(14, "LITERAL-pg-password-0123", "PG_PASSWORD"),
		// Line moved since the scan: found anywhere in the file.
		lit(99, "LITERAL-webhook-0123456789abcdef", "SLACK_WEBHOOK_URL"),
	}}, 3},
	{"aliased_os", rewrite.Edit{Keys: keys("SENDGRID_API_KEY")}, 1},
	{"comments_formatting", rewrite.Edit{Keys: keys("STRIPE_SECRET_KEY")}, 1},
	{"config_only", rewrite.Edit{Keys: keys("STRIPE_SECRET_KEY"), Literals: []rewrite.Literal{lit(3, "LITERAL-absent-0123456789", "X")}}, 0},
	{"shadowed_os", rewrite.Edit{Keys: keys("SESSION_SECRET")}, 1},
}

func TestRewriteGolden(t *testing.T) {
	l := forModule(t)
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "rewrite", tc.name+".input"))
			if err != nil {
				t.Fatal(err)
			}
			out, n, err := l.Rewrite(tc.name+".go", in, tc.edit)
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
			if _, err := parser.ParseFile(token.NewFileSet(), "x.go", out, parser.ParseComments); err != nil {
				t.Fatalf("output does not parse: %v", err)
			}
			golden := filepath.Join("testdata", "rewrite", tc.name+".golden")
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
			// A second run finds nothing more to do.
			again, n2, err := l.Rewrite(tc.name+".go", out, tc.edit)
			if err != nil || n2 != 0 || !bytes.Equal(again, out) {
				t.Errorf("second rewrite: changed %d, err %v", n2, err)
			}
		})
	}
}

// TestGoldenOutputsCompile builds every golden output in a throwaway
// module, each as its own package, against a stand-in helper package with
// the generated helper's API, so "keep it compiling" is checked without
// network or Vault.
func TestGoldenOutputsCompile(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go toolchain not on PATH")
	}
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/app\n\ngo 1.22\n")
	write("internal/secrets/secrets.go", `package secrets

func Getenv(name string) string { return "" }

func LookupEnv(name string) (string, bool) { return "", false }
`)
	write("lib/go-render.v2/render.go", "package render\n\nvar Name = \"r\"\n")
	for _, tc := range goldenCases {
		b, err := os.ReadFile(filepath.Join("testdata", "rewrite", tc.name+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		write("cases/"+tc.name+"/main.go", string(b))
	}
	cmd := exec.Command("go", "vet", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("golden outputs do not build: %v\n%s", err, out)
	}
}

func TestRewriteErrors(t *testing.T) {
	l := forModule(t)
	tests := []struct {
		name, src string
		edit      rewrite.Edit
		want      string
	}{
		{"syntax", "package x\nfunc {", rewrite.Edit{Keys: keys("A")}, "parsing"},
		{"struct tag", "package x\ntype T struct{ F string `LITERAL-tag-0123456789` }\n",
			rewrite.Edit{Literals: []rewrite.Literal{lit(2, "LITERAL-tag-0123456789", "TAG")}}, "struct tag"},
		{"iota", "package x\nconst (\n\ta = iota\n\tb = \"LITERAL-iota-0123456789\"\n\tc\n)\n",
			rewrite.Edit{Literals: []rewrite.Literal{lit(4, "LITERAL-iota-0123456789", "B")}}, "implicitly"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := l.Rewrite("x.go", []byte(tc.src), tc.edit)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			for _, lit := range tc.edit.Literals {
				if strings.Contains(err.Error(), lit.Value.Reveal()) {
					t.Fatalf("error message leaks the value")
				}
			}
		})
	}
	if _, _, err := New().Rewrite("x.go", []byte("package x"), rewrite.Edit{}); err == nil {
		t.Fatal("Rewrite without ForRepo must fail")
	}
}

func TestModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"module example.com/a\n":           "example.com/a",
		"// c\nmodule \"example.com/b\"\n": "example.com/b",
		"module example.com/c // note\n":   "example.com/c",
		"go 1.22\n":                        "",
		"modules x\n":                      "",
	} {
		if got := modulePath([]byte(in)); got != want {
			t.Errorf("modulePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatch(t *testing.T) {
	l := New()
	for p, want := range map[string]bool{
		"main.go": true, "internal/ai/client.go": true, "README.md": false,
		"vendor/x/y.go": false, "internal/secrets/secrets.go": false, "a/testdata/b.go": false,
	} {
		if got := l.Match(p); got != want {
			t.Errorf("Match(%q) = %v", p, got)
		}
	}
}

// BenchmarkRewrite measures one rewrite of a mid-sized file (the golden
// inputs concatenated into one package's worth of functions).
func BenchmarkRewrite(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("testdata", "rewrite", "getenv.input"))
	if err != nil {
		b.Fatal(err)
	}
	var body strings.Builder
	body.Write(src)
	for i := 0; i < 200; i++ {
		body.WriteString("\nfunc f" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "_" + strconv.Itoa(i) + "() string {\n\treturn os.Getenv(\"STRIPE_SECRET_KEY\") + os.Getenv(\"PORT\")\n}\n")
	}
	in := []byte(body.String())
	l := forModule(b)
	e := rewrite.Edit{Keys: keys("STRIPE_SECRET_KEY")}
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for b.Loop() {
		if _, n, err := l.Rewrite("main.go", in, e); err != nil || n != 201 {
			b.Fatalf("n=%d err=%v", n, err)
		}
	}
}

func TestNestedModuleRefused(t *testing.T) {
	files := map[string]string{"go.mod": "module example.com/app\n", "tools/go.mod": "module example.com/tools\n"}
	l, err := New().ForRepo(rewrite.Repo{Read: func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}})
	if err != nil {
		t.Fatal(err)
	}
	src := []byte("package main\n\nimport \"os\"\n\nvar v = os.Getenv(\"K\")\n")
	if _, _, err := l.Rewrite("tools/gen/main.go", src, rewrite.Edit{Keys: keys("K")}); err == nil || !strings.Contains(err.Error(), "nested module tools") {
		t.Fatalf("err = %v", err)
	}
	if _, n, err := l.Rewrite("cmd/app/main.go", src, rewrite.Edit{Keys: keys("K")}); err != nil || n != 1 {
		t.Fatalf("root module file: n=%d err=%v", n, err)
	}
}
