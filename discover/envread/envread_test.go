package envread

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// r builds an expected read; pos is "line:col".
func r(lang, key string, line, col int) Read {
	return Read{Line: line, Column: col, Key: key, Language: lang}
}

func TestReads(t *testing.T) {
	tests := []struct {
		name string
		path string
		src  string
		want []Read
	}{
		// ---- Go ----
		{"go getenv", "main.go", "package main\nimport \"os\"\nvar a = os.Getenv(\"A\")\n",
			[]Read{r("go", "A", 3, 9)}},
		{"go lookupenv", "main.go", "package main\nimport \"os\"\nfunc f() { v, ok := os.LookupEnv(`B`); _, _ = v, ok }\n",
			[]Read{r("go", "B", 3, 21)}},
		{"go alias", "main.go", "package main\nimport xos \"os\"\nvar a = xos.Getenv(\"A\")\nvar b = os.Getenv(\"NOT_OS\")\n",
			[]Read{r("go", "A", 3, 9)}},
		{"go dot import", "main.go", "package main\nimport . \"os\"\nvar a = Getenv(\"A\")\n",
			[]Read{r("go", "A", 3, 9)}},
		{"go const arg", "main.go", "package main\nimport \"os\"\nconst k = \"KEY\"\nvar a = os.Getenv(k)\nvar b = os.Getenv(\"P_\" + k)\n",
			[]Read{r("go", "KEY", 4, 9), r("go", "P_KEY", 5, 9)}},
		{"go non-constant ignored", "main.go", "package main\nimport \"os\"\nfunc f(name string) string { return os.Getenv(name) }\n", nil},
		{"go no os import", "main.go", "package main\nvar a = cfg.Getenv(\"A\")\n", nil},
		{"go in comment and string", "main.go", "package main\nimport \"os\"\n// os.Getenv(\"A\")\nvar s = `os.Getenv(\"B\")`\nvar _ = os.Args\n", nil},
		{"go setenv is no read", "main.go", "package main\nimport \"os\"\nfunc f() { os.Setenv(\"A\", \"1\") }\n", nil},

		// ---- Python ----
		{"py environ subscript", "app.py", "import os\nkey = os.environ[\"A\"]\n",
			[]Read{r("python", "A", 2, 7)}},
		{"py environ get", "app.py", "import os\nkey = os.environ.get('A', 'd')\nk2 = os.environ.get(\"B\")\n",
			[]Read{r("python", "A", 2, 7), r("python", "B", 3, 6)}},
		{"py getenv", "app.py", "import os\nkey = os.getenv(\"A\", \"\")\nk2 = os.getenv(\"B\")\n",
			[]Read{r("python", "A", 2, 7), r("python", "B", 3, 6)}},
		{"py from os import", "app.py", "from os import environ, getenv\na = environ[\"A\"]\nb = getenv(\"B\")\nc = environ.get(\"C\", None)\n",
			[]Read{r("python", "A", 2, 5), r("python", "B", 3, 5), r("python", "C", 4, 5)}},
		{"py aliases", "app.py", "import os as o\nfrom os import environ as E, getenv as g\na = o.environ['A']\nb = E['B']\nc = g('C')\nd = o.getenv('D')\n",
			[]Read{r("python", "A", 3, 5), r("python", "B", 4, 5), r("python", "C", 5, 5), r("python", "D", 6, 5)}},
		{"py writes and deletes are no reads", "app.py", "import os\nos.environ[\"A\"] = \"1\"\nos.environ[\"B\"] += \"x\"\ndel os.environ[\"C\"]\nos.environ.setdefault(\"D\", \"1\")\n", nil},
		{"py non-constant and f-string ignored", "app.py", "import os\na = os.environ[name]\nb = os.getenv(f\"X_{n}\")\nc = os.environ[b'B']\n", nil},
		{"py bare environ without import is not os", "app.py", "environ = {}\na = environ[\"A\"]\ngetenv(\"B\")\n", nil},
		{"py membership", "app.py", "import os\nif 'A' in os.environ and \"B\" not in os.environ: pass\n",
			[]Read{r("python", "A", 2, 4), r("python", "B", 2, 26)}},
		{"py comments and strings", "app.py", "import os\n# os.environ['A']\ns = \"os.getenv('B')\"\n", nil},
		{"py multiline call with comment", "app.py", "import os\nv = os.environ.get(\n    \"A\",  # the key\n    \"d\",\n)\n",
			[]Read{r("python", "A", 2, 5)}},
		{"py raw and unicode prefix", "app.py", "import os\na = os.environ[r'A']\nb = os.getenv(u\"B\")\n",
			[]Read{r("python", "A", 2, 5), r("python", "B", 3, 5)}},

		// ---- JavaScript ----
		{"js member", "server.js", "const a = process.env.A;\n",
			[]Read{r("javascript", "A", 1, 11)}},
		{"js subscript", "server.mjs", "const a = process.env[\"A\"];\nconst b = process.env['B'];\nconst c = process.env[`C`];\n",
			[]Read{r("javascript", "A", 1, 11), r("javascript", "B", 2, 11), r("javascript", "C", 3, 11)}},
		{"js destructure", "server.cjs", "const { X, Y: alias, Z = \"d\", \"Q\": q, W: w = 1, ...rest } = process.env;\n",
			[]Read{r("javascript", "X", 1, 9), r("javascript", "Y", 1, 12), r("javascript", "Z", 1, 22), r("javascript", "Q", 1, 31), r("javascript", "W", 1, 39)}},
		{"js destructure assignment", "a.js", "let X;\n({ X } = process.env);\n",
			[]Read{r("javascript", "X", 2, 4)}},
		{"js import.meta.env", "main.jsx", "const k = import.meta.env.VITE_K;\nconst { VITE_J } = import.meta.env;\n",
			[]Read{r("javascript", "VITE_K", 1, 11), r("javascript", "VITE_J", 2, 9)}},
		{"js writes are no reads", "a.js", "process.env.A = \"1\";\ndelete process.env.B;\nprocess.env[\"C\"] = 2;\nprocess.env.D += \"x\";\n", nil},
		{"js non-constant ignored", "a.js", "const a = process.env[name];\nconst b = process.env[`X_${n}`];\nconst c = process.env;\n", nil},
		{"js other objects", "a.js", "const a = proc.env.A;\nconst b = process.envs.B;\nconst c = env.C;\n", nil},
		{"js comments between dot and env", "a.js", "const a = process. // why\n  env.A;\nconst b = process . /* c */ env . B;\n",
			[]Read{r("javascript", "A", 1, 11), r("javascript", "B", 3, 11)}},
		{"js membership", "a.js", "if ('A' in process.env) {}\n",
			[]Read{r("javascript", "A", 1, 5)}},
		{"js comments and strings", "a.js", "// process.env.A\nconst s = \"process.env.B\";\n", nil},
		{"js optional chain and nested use", "a.js", "const a = process.env?.A;\nconst b = process.env.B.split(\",\");\n",
			[]Read{r("javascript", "A", 1, 11), r("javascript", "B", 2, 11)}},

		// ---- TypeScript ----
		{"ts typed reads", "config.ts", "const k: string = process.env.K!;\nexport const { X } = process.env as Record<string, string>;\nconst y = (process.env as any).Y;\n",
			[]Read{r("typescript", "K", 1, 19), r("typescript", "X", 2, 16), r("typescript", "Y", 3, 11)}},
		{"tsx", "App.tsx", "export const App = () => <div>{import.meta.env.VITE_T}</div>;\nconst s = process.env.S;\n",
			[]Read{r("typescript", "VITE_T", 1, 32), r("typescript", "S", 2, 11)}},
		{"mts and cts", "a.mts", "const a = process.env[\"A\"] as string;\n",
			[]Read{r("typescript", "A", 1, 11)}},
		{"ts generic arrow is not jsx", "a.cts", "const f = <T,>(x: T) => x;\nconst a = process.env.A;\n",
			[]Read{r("typescript", "A", 2, 11)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Reads(tt.path, []byte(tt.src))
			if err != nil {
				t.Fatalf("Reads: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reads (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSupported(t *testing.T) {
	yes := []string{"a.go", "x/y.py", "s.js", "s.mjs", "s.cjs", "s.jsx", "s.ts", "s.tsx", "s.mts", "s.cts", "UP.JS"}
	no := []string{"a.d.ts", "types.d.mts", "a.rb", "a.json", ".env", "Makefile", "a.pyc", "go.mod"}
	for _, p := range yes {
		if !Supported(p) {
			t.Errorf("Supported(%q) = false", p)
		}
	}
	for _, p := range no {
		if Supported(p) {
			t.Errorf("Supported(%q) = true", p)
		}
	}
	if _, err := Reads("a.rb", []byte("ENV['A']")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Reads(a.rb) error = %v, want ErrUnsupported", err)
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		path, src string
		want      []Read
	}{
		{"a.go", "package main\nimport \"os\"\nvar a = os.Getenv(\"A\")\nfunc {\n", []Read{r("go", "A", 3, 9)}},
		{"a.py", "import os\na = os.environ['A']\ndef (:\n", []Read{r("python", "A", 2, 5)}},
		{"a.js", "const a = process.env.A;\nfunction ( {\n", []Read{r("javascript", "A", 1, 11)}},
	}
	for _, tt := range tests {
		got, err := Reads(tt.path, []byte(tt.src))
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: error = %v, want ErrSyntax", tt.path, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: reads (-want +got):\n%s", tt.path, diff)
		}
	}
}

// TestConcurrent runs many parses at once (run with -race) to exercise
// the parser pools.
func TestConcurrent(t *testing.T) {
	files := map[string]string{
		"a.py":  "import os\na = os.environ['A']\n",
		"a.js":  "const a = process.env.A;\n",
		"a.ts":  "const a: string = process.env.A!;\n",
		"a.tsx": "const a = <b>{process.env.A}</b>;\n",
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				for p, src := range files {
					got, err := Reads(p, []byte(src))
					if err != nil || len(got) != 1 || got[0].Key != "A" {
						errs <- fmt.Errorf("%s: %v %v", p, got, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkReads(b *testing.B) {
	var py, js strings.Builder
	py.WriteString("import os\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&py, "def f%d(x):\n    y = os.environ.get('K%d', 'd')\n    return [x * 2 for x in range(10)]\n\n", i, i)
		fmt.Fprintf(&js, "function f%d(x) {\n  const y = process.env.K%d || 'd';\n  return [1, 2, 3].map((v) => v * x);\n}\n", i, i)
	}
	for _, c := range []struct{ path, src string }{{"bench.py", py.String()}, {"bench.js", js.String()}, {"bench.ts", js.String()}} {
		b.Run(c.path, func(b *testing.B) {
			src := []byte(c.src)
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if got, err := Reads(c.path, src); err != nil || len(got) != 200 {
						b.Fatalf("%d reads, %v", len(got), err)
					}
				}
			})
		})
	}
}
