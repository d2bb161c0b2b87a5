package golang

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"testing"

	"github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/secret"
)

// FuzzRewrite checks the Go rewriter never panics, that valid input
// stays valid Go, that a file with nothing to change comes back byte for
// byte, and that a rewritten literal is gone.
func FuzzRewrite(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "rewrite", "*.input"))
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "STRIPE_SECRET_KEY", "LITERAL-anthropic-0123456789abcdef", 5)
	}
	f.Add([]byte("package p\nconst (\n\ta = \"xx-secret-xx\"\n\tb\n)\n"), "K", "xx-secret-xx", 3)
	f.Add([]byte("package p\nimport . \"os\"\nvar v = Getenv(\"K\")\n"), "K", "", 0)
	f.Add([]byte("package p\nfunc f() { const c = \"aa\" + \"bb\"; _ = c }\n"), "K", "aabb", 2)
	f.Add([]byte("package p\nvar s = []string{\"q1q\", `q1q`, \"x\\x71\"}\n"), "K", "q", 2)
	l := forModule(f)
	f.Fuzz(func(t *testing.T, src []byte, key, value string, line int) {
		e := rewrite.Edit{Keys: map[string]bool{key: true}}
		if value != "" {
			e.Literals = []rewrite.Literal{{Line: line, Value: secret.New(value), EnvVar: "FUZZ_KEY"}}
		}
		_, perr := parser.ParseFile(token.NewFileSet(), "f.go", src, parser.ParseComments)
		out, n, err := l.Rewrite("f.go", src, e)
		if err != nil {
			return
		}
		if n == 0 && !bytes.Equal(out, src) {
			t.Fatal("no change reported but the output differs")
		}
		if perr != nil {
			t.Fatal("invalid input was accepted")
		}
		if n > 0 {
			if _, err := parser.ParseFile(token.NewFileSet(), "f.go", out, parser.ParseComments); err != nil {
				t.Fatalf("valid input became invalid Go: %v\n%s", err, out)
			}
		}
	})
}
