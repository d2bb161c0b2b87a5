package safety

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/internal/vaulttest"
)

// tempName matches the temporary files rewrite.WriteFileAtomic writes
// beside a file (".NAME.env2vault-RANDOM"); group 1 is NAME.
var tempName = regexp.MustCompile(`^\.(.+)\.env2vault-[0-9]+$`)

// copyTree copies src to dst with modes, symlinks and .git intact.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.RemoveAll(dst); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", src, dst, err, out)
	}
}

// TestRewriteKilledMidApply SIGKILLs `env2vault rewrite --yes` at random
// points of its writes — right after the k-th file system event in the
// org (a temp file created, written, chmod-ed, closed, renamed), k drawn
// at random over a full run's events — many times, each from the same
// starting tree. After each kill every file is byte-identical to its old
// or its new version, nothing else appeared but rewrite's own temp files,
// and those hold nothing but a prefix of the new content (which holds no
// value the old file did not). A rerun then finishes the job: the tree
// equals a clean run's result and no temp file is left.
func TestRewriteKilledMidApply(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("kills at file system events through inotify (Linux)")
	}
	runs := 16
	if testing.Short() {
		runs = 5
	}
	env := vaulttest.Server(t)
	sb := newSandbox(t)
	env.Setenv(t)
	ctx := context.Background()
	m, err := sampleorg.Build(ctx, filepath.Join(sb.base, "org"))
	if err != nil {
		t.Fatal(err)
	}
	c := newCanary(m)
	org := m.Dir
	planFile := filepath.Join(sb.out, "plan.yaml")
	if r := execute(t, "plan", "--vault-mount", env.KV2, "-o", planFile, org); r.code != 1 {
		t.Fatal(r.show(c))
	}
	if r := execute(t, "migrate", "--plan", planFile, "--yes"); r.code != 0 {
		t.Fatal(r.show(c))
	}
	pristine := filepath.Join(sb.base, "org.pristine")
	copyTree(t, org, pristine)
	old := snapshot(t, org)
	watch, _ := json.Marshal([]string{org})

	rewrite := func(extraEnv []string, args ...string) (code int, stderr string) {
		t.Helper()
		_, _, errOut, done := startChild(t, append([]string{watchEnv + "=" + string(watch)}, extraEnv...),
			append([]string{"rewrite", "--plan", planFile, "--yes"}, args...)...)
		err := <-done
		code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode() // -1 when killed by a signal
		} else if err != nil {
			t.Fatal(err)
		}
		return code, errOut.String()
	}

	// A clean run gives the new version of every file and the number of
	// file system events the writes make.
	code, stderr := rewrite([]string{killAfterEnv + "=0"})
	if code != 0 {
		t.Fatalf("a clean rewrite: exit %d\n%s", code, c.redact(stderr))
	}
	mm := regexp.MustCompile(`safety-events ([0-9]+)`).FindStringSubmatch(stderr)
	if mm == nil {
		t.Fatalf("the clean run did not report its events:\n%s", c.redact(stderr))
	}
	events, _ := strconv.Atoi(mm[1])
	want := snapshot(t, org)
	changed := 0
	for p, b := range want {
		if !bytes.Equal(old[p], b) {
			changed++
		}
		// What rewrite writes holds no value the file did not hold before
		// (a flagged frontend key stays where it was).
		for i, v := range c.vals {
			if bytes.Count(b, v) > bytes.Count(old[p], v) {
				t.Errorf("rewrite copied %s into %s", c.names[i], p)
			}
		}
	}
	if changed < 10 || events < 5*changed {
		t.Fatalf("a clean rewrite changed %d files with %d events", changed, events)
	}
	t.Logf("a clean rewrite changes %d files with %d file system events", changed, events)

	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, 0x5afe))
	t.Logf("seed %d (ENV2VAULT_SAFETY_SEED replays it)", seed)
	torn, tempsSeen := 0, 0
	for i := range runs {
		copyTree(t, pristine, org)
		k := 1 + rng.IntN(events)
		code, stderr := rewrite([]string{killAfterEnv + "=" + strconv.Itoa(k)})
		after := snapshot(t, org)
		temps := 0
		nNew := 0
		for p, b := range after {
			dir, base := path.Split(p)
			if tm := tempName.FindStringSubmatch(base); tm != nil {
				temps++
				target := dir + tm[1]
				if !bytes.HasPrefix(want[target], b) {
					t.Errorf("run %d (kill at event %d): the temp file %s holds something other than the start of %s's new content", i, k, p, target)
				}
				continue
			}
			o, inOld := old[p]
			n, inNew := want[p]
			switch {
			case inNew && bytes.Equal(b, n):
				if !inOld || !bytes.Equal(o, n) {
					nNew++
				}
			case inOld && bytes.Equal(b, o):
			default:
				t.Errorf("run %d (kill at event %d): %s is neither its old nor its new version", i, k, p)
			}
		}
		for p := range old {
			if _, ok := after[p]; !ok {
				t.Errorf("run %d (kill at event %d): %s disappeared", i, k, p)
			}
		}
		for _, h := range c.hits([]byte(stderr)) {
			t.Errorf("run %d: rewrite's stderr holds %s", i, h)
		}
		if nNew > 0 && nNew < changed {
			torn++
		}
		tempsSeen += temps
		t.Logf("run %d: killed at event %d of %d (exit %d): %d of %d files new, %d temp files left", i, k, events, code, nNew, changed, temps)

		// The rerun (the tracked files it already changed make the repos
		// dirty, hence --allow-dirty) completes the rewrite and removes
		// the temp files the killed run left.
		code, stderr = rewrite(nil, "--allow-dirty")
		if code != 0 {
			t.Fatalf("run %d: the rerun after a kill at event %d: exit %d\n%s", i, k, code, c.redact(stderr))
		}
		final := snapshot(t, org)
		var diff []string
		for p, b := range final {
			if !bytes.Equal(want[p], b) {
				diff = append(diff, p)
				if _, ok := want[p]; ok {
					t.Logf("run %d: %s differs from a clean rewrite:\n%s", i, p, c.redact(udiff.Unified("clean", "rerun", string(want[p]), string(b))))
				}
			}
		}
		for p := range want {
			if _, ok := final[p]; !ok {
				diff = append(diff, p+" (missing)")
			}
		}
		sort.Strings(diff)
		if len(diff) > 0 {
			t.Errorf("run %d: after the rerun these files differ from a clean rewrite: %s", i, strings.Join(diff, ", "))
		}
	}
	if !testing.Short() {
		if torn == 0 {
			t.Errorf("none of %d kills landed between the first and the last file written; the test did not test much", runs)
		}
		if tempsSeen == 0 {
			t.Errorf("none of %d kills left a temp file; the cleanup on rerun went untested", runs)
		}
	}
}
