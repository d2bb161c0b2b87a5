// Package history answers the git questions a scan asks about one
// repository: which files are tracked now, which .env files were ever
// committed, and which secret values ever entered its history.
//
// It runs the git command line (which must be on PATH) with the
// repository's own configuration, except that core.fsmonitor is turned
// off so that scanning a repository never runs a program it names.
// Secret values are searched for in memory only; they are never passed to
// git or written anywhere.
package history

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"

	"github.com/env2vault/env2vault/secret"
)

// gitCmd returns a git command run in dir, isolated from GIT_* variables
// that would point it at another repository.
func gitCmd(ctx context.Context, dir string, args ...string) *exec.Cmd {
	full := append([]string{"-c", "core.fsmonitor=false", "-c", "core.quotepath=off"}, args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Dir = dir
	env := os.Environ()[:0:0]
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
			"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE",
			"GIT_COMMON_DIR", "GIT_EXTERNAL_DIFF":
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0")
	return cmd
}

// gitError turns a failed git run into an error naming the command and
// git's first line of complaint. Git's stderr never holds file contents
// for the commands used here.
func gitError(args []string, err error, stderr []byte) error {
	msg := strings.TrimSpace(string(stderr))
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if msg != "" {
		return fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
}

// output runs git and returns its stdout.
func output(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := gitCmd(ctx, dir, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, gitError(args, err, stderr.Bytes())
	}
	return out, nil
}

func splitNUL(b []byte) []string {
	var out []string
	for _, p := range bytes.Split(b, []byte{0}) {
		if len(p) > 0 {
			out = append(out, string(p))
		}
	}
	return out
}

// Tracked returns the slash-separated paths git tracks in the work tree
// at dir, relative to dir.
func Tracked(ctx context.Context, dir string) (map[string]bool, error) {
	out, err := output(ctx, dir, "ls-files", "-z")
	if err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, p := range splitNUL(out) {
		m[p] = true
	}
	return m, nil
}

// CommittedPaths returns, sorted, every path that was ever added in any
// commit reachable from any ref and for which match returns true,
// including paths deleted since.
func CommittedPaths(ctx context.Context, dir string, match func(path string) bool) ([]string, error) {
	out, err := output(ctx, dir, "log", "--all", "--no-renames", "--name-only", "--diff-filter=A", "--format=", "-z")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var paths []string
	for _, p := range splitNUL(out) {
		p = strings.TrimLeft(p, "\n")
		if p == "" || seen[p] || !match(p) {
			continue
		}
		seen[p] = true
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths, nil
}

// chunk is how much of a blob is searched at a time.
const chunk = 1 << 20

// Search reports, for each value, whether it (or its standard base64
// encoding, as Kubernetes manifests hold it) appears in any blob
// reachable from any ref of the repository at dir. It makes one pass over
// the unique blobs (git rev-list | git cat-file --batch) and stops early
// once every value is found. Empty values are never found.
func Search(ctx context.Context, dir string, values []secret.Value) ([]bool, error) {
	found := make([]bool, len(values))
	type needle struct {
		idx int
		b   []byte
	}
	var needles []needle
	maxLen := 0
	for i, v := range values {
		if v.IsZero() {
			continue
		}
		raw := []byte(v.Reveal())
		b64 := []byte(base64.StdEncoding.EncodeToString(raw))
		needles = append(needles, needle{i, raw}, needle{i, b64})
		maxLen = max(maxLen, len(b64))
	}
	if len(needles) == 0 {
		return found, nil
	}
	remaining := len(values)
	for _, v := range values {
		if v.IsZero() {
			remaining--
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listArgs := []string{"rev-list", "--all", "--objects", "--no-object-names", "--filter=object:type=blob"}
	list := gitCmd(ctx, dir, listArgs...)
	batch := gitCmd(ctx, dir, "cat-file", "--batch")
	var listErr, batchErr bytes.Buffer
	list.Stderr, batch.Stderr = &listErr, &batchErr
	pr, pw := io.Pipe()
	list.Stdout = pw
	batch.Stdin = pr
	stdout, err := batch.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := batch.Start(); err != nil {
		return nil, fmt.Errorf("starting git cat-file: %w", err)
	}
	if err := list.Start(); err != nil {
		_ = pw.Close()
		_ = batch.Wait()
		return nil, fmt.Errorf("starting git rev-list: %w", err)
	}
	listDone := make(chan error, 1)
	go func() {
		err := list.Wait()
		_ = pw.Close()
		listDone <- err
	}()

	r := bufio.NewReaderSize(stdout, 64<<10)
	buf := make([]byte, 0, chunk+maxLen)
	searchErr := func() error {
		for remaining > 0 {
			header, err := r.ReadString('\n')
			if err == io.EOF && header == "" {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading git cat-file output: %w", err)
			}
			fields := strings.Fields(header)
			if len(fields) == 2 && fields[1] == "missing" {
				continue
			}
			if len(fields) != 3 {
				return errors.New("unexpected git cat-file output")
			}
			size, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil {
				return errors.New("unexpected git cat-file output")
			}
			blob := fields[1] == "blob"
			// Search the object in chunks, keeping a tail of maxLen-1 bytes so
			// that a value split across two chunks is still found.
			buf = buf[:0]
			left := size
			for left > 0 {
				n := min(left, int64(chunk))
				start := len(buf)
				buf = append(buf, make([]byte, n)...)
				if _, err := io.ReadFull(r, buf[start:]); err != nil {
					return fmt.Errorf("reading git cat-file output: %w", err)
				}
				left -= n
				if !blob {
					buf = buf[:0]
					continue
				}
				for _, nd := range needles {
					if !found[nd.idx] && bytes.Contains(buf, nd.b) {
						found[nd.idx] = true
						remaining--
					}
				}
				if keep := maxLen - 1; len(buf) > keep {
					buf = append(buf[:0], buf[len(buf)-keep:]...)
				}
			}
			if _, err := r.Discard(1); err != nil { // the newline after the content
				return fmt.Errorf("reading git cat-file output: %w", err)
			}
		}
		return nil
	}()
	complete := searchErr == nil && remaining > 0
	if !complete {
		// Everything is found (or reading failed): stop git early.
		cancel()
	}
	_, _ = io.Copy(io.Discard, stdout)
	lerr := <-listDone
	berr := batch.Wait()
	clear(buf[:cap(buf)])
	if searchErr != nil {
		return nil, searchErr
	}
	if complete {
		// git ran to completion: its exit status matters.
		if lerr != nil {
			return nil, gitError(listArgs, lerr, listErr.Bytes())
		}
		if berr != nil {
			return nil, gitError([]string{"cat-file", "--batch"}, berr, batchErr.Bytes())
		}
	}
	return found, nil
}

// IsRepo reports whether dir is the top of a git work tree: it holds a
// .git folder, or a .git file (worktrees and submodules).
func IsRepo(dir string) bool {
	_, err := os.Lstat(dir + string(os.PathSeparator) + ".git")
	return err == nil
}
