package safety

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// moduleRoot is the repository's top folder, from this package's.
const moduleRoot = "../.."

// TestFuzzTargetsHaveCorpus checks that every parser and rewriter that
// reads untrusted input has a fuzz target with a committed seed corpus
// (f.Add seeds, testdata/fuzz files, or both; every corpus file well
// formed), and that scripts/fuzz finds each of them.
func TestFuzzTargetsHaveCorpus(t *testing.T) {
	required := []struct{ pkg, name string }{
		{"discover/dotenv", "FuzzParse"},
		{"discover/envread", "FuzzReads"},
		{"rewrite/golang", "FuzzRewrite"},
		{"rewrite/python", "FuzzRewrite"},
		{"rewrite/javascript", "FuzzRewrite"},
	}
	out, err := exec.Command("bash", filepath.Join(moduleRoot, "scripts", "fuzz"), "--list").Output()
	if err != nil {
		t.Fatalf("scripts/fuzz --list: %v", err)
	}
	listed := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		listed[l] = true
	}
	for _, r := range required {
		t.Run(r.pkg+"."+r.name, func(t *testing.T) {
			if !listed[r.pkg+" "+r.name] {
				t.Errorf("scripts/fuzz does not find %s %s (it lists %v)", r.pkg, r.name, listed)
			}
			dir := filepath.Join(moduleRoot, filepath.FromSlash(r.pkg))
			files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
			body := ""
			decl := regexp.MustCompile(`(?m)^func ` + r.name + `\(f \*testing\.F\) \{`)
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if loc := decl.FindIndex(b); loc != nil {
					rest := string(b[loc[1]:])
					if i := strings.Index(rest, "f.Fuzz("); i >= 0 {
						rest = rest[:i]
					}
					body = rest
				}
			}
			if body == "" {
				t.Fatalf("no %s(f *testing.F) with an f.Fuzz call in %s", r.name, r.pkg)
			}
			seeds := strings.Count(body, "f.Add(")
			corpus, _ := filepath.Glob(filepath.Join(dir, "testdata", "fuzz", r.name, "*"))
			for _, c := range corpus {
				b, err := os.ReadFile(c)
				if err != nil || !strings.HasPrefix(string(b), "go test fuzz v1\n") {
					t.Errorf("%s is not a go test fuzz v1 corpus file (%v)", c, err)
				}
			}
			if seeds == 0 && len(corpus) == 0 {
				t.Errorf("%s.%s has no seed corpus: no f.Add and no testdata/fuzz/%s files", r.pkg, r.name, r.name)
			}
			t.Logf("%d f.Add seed call(s), %d corpus file(s)", seeds, len(corpus))
		})
	}
}
