package python

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/env2vault/env2vault/rewrite"
)

// FuzzRewrite checks that the rewriter never panics, and that a file
// without syntax errors still has none after rewriting.
func FuzzRewrite(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.input"))
	for _, p := range inputs {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(src), "LITERAL-hf-token-0123456789abcdef")
	}
	f.Add("import os\nx = os.environ['STRIPE_SECRET_KEY']; y = 'abc'\n", "abc")
	f.Fuzz(func(t *testing.T, src, literal string) {
		e := rewrite.Edit{Keys: secretKeys, Literals: []rewrite.Literal{lit(1, literal, "LIT_VAR")}}
		out, n, err := New().Rewrite("f.py", []byte(src), e)
		if err != nil {
			return // syntax errors are reported, not rewritten
		}
		if n == 0 && string(out) != src {
			t.Fatalf("no change reported but output differs")
		}
		if !parses(out) {
			t.Fatalf("valid input became invalid:\n%s", out)
		}
	})
}
