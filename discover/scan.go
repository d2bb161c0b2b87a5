package discover

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/env2vault/env2vault/discover/dotenv"
	"github.com/env2vault/env2vault/discover/history"
	"github.com/env2vault/env2vault/secret"
)

// DefaultMaxFileSize is the largest file a scan reads unless told
// otherwise; larger files are skipped as "too-large".
const DefaultMaxFileSize = 10 << 20

// binarySniff is how much of a file is checked for a NUL byte to decide
// that it is binary.
const binarySniff = 8 << 10

// Skip reasons.
const (
	SkipBinary      = "binary"
	SkipTooLarge    = "too-large"
	SkipUnreadable  = "unreadable"
	SkipSymlinkLoop = "symlink-loop"
	SkipSymlinkDir  = "symlink"   // a folder symlink, not followed
	SkipIgnoredDir  = "ignored"   // a folder in the skip list
	SkipSpecial     = "special"   // a socket, device or named pipe
	SkipMalformed   = "malformed" // an .env file that does not parse
	SkipGit         = "git-error" // git could not answer about a repo
)

// Options configure Scan.
type Options struct {
	// Paths are the folders to scan: repositories, or folders holding
	// repositories at any depth.
	Paths []string
	// MaxFileSize is the largest file read, in bytes (DefaultMaxFileSize
	// when 0).
	MaxFileSize int64
	// SkipDirs are folder names not entered. nil means DefaultSkipDirs;
	// an empty non-nil slice skips nothing (but .git).
	SkipDirs []string
	// Workers is how many files are scanned at once (GOMAXPROCS when 0).
	Workers int
	// SkipHistory leaves out the search of git history for secret values
	// (InHistory stays false). Tracked files and committed .env files
	// are still read.
	SkipHistory bool
	// Fingerprinter, when set, fingerprints every value found.
	Fingerprinter *secret.Fingerprinter
	// Detector finds hardcoded keys and classifies .env entries
	// (NewDetector's when nil).
	Detector Detector
	// EnvReader finds env reads in code (NewEnvReader's when nil).
	EnvReader EnvReader
	// Progress, when set, is called from one goroutine about ten times a
	// second while the scan runs, and once at the end.
	Progress func(Progress)
}

// Progress reports how far a scan has come.
type Progress struct {
	// Phase is "files" while files are read, "history" while git is
	// asked, and "done" at the end.
	Phase string
	// Files and Bytes count files read so far.
	Files int
	Bytes int64
	// Repos counts repositories found so far.
	Repos int
	// Secrets counts secret findings so far.
	Secrets int
}

type repoState struct {
	Repo
	dir     string // absolute
	display string // the repo's path as the user gave it
	ignores *Ignores
	files   atomic.Int64

	mu          sync.Mutex
	composeRefs []string        // repo-relative .env paths named by Compose files
	envDone     map[string]bool // paths read as .env files
}

type job struct {
	repo *repoState
	abs  string
	rel  string // slash-separated, relative to the repo
	size int64
}

type scanner struct {
	opts    Options
	det     Detector
	er      EnvReader
	skipDir map[string]bool
	maxSize int64

	mu       sync.Mutex
	findings []Finding
	skips    []Skip
	repos    []*repoState

	files, secrets atomic.Int64
	bytes          atomic.Int64
	phase          atomic.Value
}

// Scan walks opts.Paths and reports what it finds. Problems with single
// files or folders (unreadable, binary, too large, malformed) are
// recorded in Result.Skipped and the scan goes on; Scan fails only for
// bad options, a path that is not a folder, or a cancelled context.
func Scan(ctx context.Context, opts Options) (*Result, error) {
	if len(opts.Paths) == 0 {
		return nil, errors.New("nothing to scan: give at least one folder")
	}
	s := &scanner{opts: opts, det: opts.Detector, er: opts.EnvReader, maxSize: opts.MaxFileSize}
	if s.maxSize == 0 {
		s.maxSize = DefaultMaxFileSize
	}
	if s.maxSize < 0 {
		return nil, errors.New("the maximum file size must be positive")
	}
	if s.det == nil {
		d, err := NewDetector()
		if err != nil {
			return nil, err
		}
		s.det = d
	}
	if s.er == nil {
		s.er = NewEnvReader()
	}
	dirs := opts.SkipDirs
	if dirs == nil {
		dirs = DefaultSkipDirs
	}
	s.skipDir = map[string]bool{}
	for _, d := range dirs {
		if d = strings.TrimSpace(d); d != "" {
			s.skipDir[d] = true
		}
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	type root struct{ given, abs string }
	var roots []root
	seen := map[string]bool{}
	for _, p := range opts.Paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("cannot scan %s: %w", p, errors.Unwrap(err))
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("cannot scan %s: not a folder", p)
		}
		if !seen[abs] {
			seen[abs] = true
			roots = append(roots, root{p, abs})
		}
	}

	s.phase.Store("files")
	stopProgress := s.startProgress()
	defer stopProgress()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job, workers*4)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for j := range jobs {
				if ctx.Err() != nil {
					continue
				}
				buf = s.process(j, buf)
			}
			clear(buf)
		}()
	}
	var walkErr error
	for _, r := range roots {
		if walkErr = s.walkRoot(ctx, r.given, r.abs, jobs); walkErr != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if walkErr != nil {
		return nil, walkErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.composeFollowUp(ctx)

	s.phase.Store("history")
	if err := s.gitPhase(ctx, workers); err != nil {
		return nil, err
	}
	res := s.result()
	s.phase.Store("done")
	return res, nil
}

func (s *scanner) progress() Progress {
	s.mu.Lock()
	repos := len(s.repos)
	s.mu.Unlock()
	return Progress{
		Phase:   s.phase.Load().(string),
		Files:   int(s.files.Load()),
		Bytes:   s.bytes.Load(),
		Repos:   repos,
		Secrets: int(s.secrets.Load()),
	}
}

func (s *scanner) startProgress() (stop func()) {
	if s.opts.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				s.opts.Progress(s.progress())
				return
			case <-t.C:
				s.opts.Progress(s.progress())
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// rootLabel returns the Root recorded for a scan root given as given:
// the path itself, or its parent when it is a repository.
func rootLabel(given, abs string, isRepo bool) (label, labelAbs string) {
	if !isRepo {
		return filepath.Clean(given), abs
	}
	parent := filepath.Dir(abs)
	clean := filepath.Clean(given)
	if filepath.IsAbs(clean) || (filepath.Base(clean) != "." && filepath.Base(clean) != "..") {
		return filepath.Dir(clean), parent
	}
	return parent, parent
}

func (s *scanner) newRepo(label, labelAbs, dir, display string, git bool) (*repoState, error) {
	s.mu.Lock()
	for _, r := range s.repos {
		if r.dir == dir {
			s.mu.Unlock()
			return r, nil // two roots in one repository
		}
	}
	s.mu.Unlock()
	name, err := filepath.Rel(labelAbs, dir)
	if err != nil {
		return nil, err
	}
	ig, err := LoadIgnores(dir)
	if err != nil {
		return nil, err
	}
	r := &repoState{
		Repo:    Repo{Root: label, Name: filepath.ToSlash(name), Git: git},
		dir:     dir,
		display: display,
		ignores: ig,
		envDone: map[string]bool{},
	}
	s.mu.Lock()
	s.repos = append(s.repos, r)
	s.mu.Unlock()
	return r, nil
}

func (s *scanner) skip(p, reason, detail string) {
	s.mu.Lock()
	s.skips = append(s.skips, Skip{Path: p, Reason: reason, Detail: detail})
	s.mu.Unlock()
}

func (s *scanner) walkRoot(ctx context.Context, given, abs string, jobs chan<- job) error {
	display := filepath.Clean(given)
	isRepo := history.IsRepo(abs)
	if !isRepo {
		if top := enclosingRepo(abs); top != "" {
			// A folder inside a repository: its files belong to that
			// repository (so tracked and history answers are right), with
			// paths relative to the repository's top.
			rel, err := filepath.Rel(top, abs)
			if err != nil {
				return fmt.Errorf("scanning %s: %w", given, err)
			}
			label := filepath.Dir(top)
			repo, err := s.newRepo(label, label, top, top, true)
			if err != nil {
				return fmt.Errorf("scanning %s: %w", given, err)
			}
			return s.walkDir(ctx, walkPos{abs: abs, display: display, rel: filepath.ToSlash(rel), repo: repo,
				label: label, labelAbs: label, ancestors: []string{abs}}, jobs)
		}
	}
	label, labelAbs := rootLabel(given, abs, isRepo)
	repo, err := s.newRepo(label, labelAbs, abs, display, isRepo)
	if err != nil {
		return fmt.Errorf("scanning %s: %w", given, err)
	}
	return s.walkDir(ctx, walkPos{abs: abs, display: display, rel: "", repo: repo, label: label, labelAbs: labelAbs, ancestors: []string{abs}}, jobs)
}

// enclosingRepo returns the top of the git work tree holding dir (which
// is not itself a top), or "".
func enclosingRepo(dir string) string {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if history.IsRepo(d) {
			return d
		}
		if d == filepath.Dir(d) {
			return ""
		}
	}
}

type walkPos struct {
	abs, display string
	rel          string // relative to repo, slash-separated
	repo         *repoState
	label        string
	labelAbs     string
	ancestors    []string // absolute paths of the folders above, for loop checks
}

func (s *scanner) walkDir(ctx context.Context, w walkPos, jobs chan<- job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(w.abs)
	if err != nil {
		s.skip(w.display, SkipUnreadable, describe(err))
	}
	for _, e := range entries {
		name := e.Name()
		full := filepath.Join(w.abs, name)
		display := filepath.Join(w.display, name)
		rel := path.Join(w.rel, name)
		t := e.Type()
		if t&fs.ModeSymlink != 0 {
			fi, err := os.Stat(full)
			switch {
			case err != nil && errors.Is(err, syscall.ELOOP):
				s.skip(display, SkipSymlinkLoop, detailSelfLink)
				continue
			case err != nil:
				s.skip(display, SkipUnreadable, detailBrokenSymlink)
				continue
			case fi.IsDir():
				if target, err := filepath.EvalSymlinks(full); err == nil && isAncestor(target, w.ancestors) {
					s.skip(display, SkipSymlinkLoop, "folder symlink to a folder above it")
				} else {
					s.skip(display, SkipSymlinkDir, "folder symlinks are not followed")
				}
				continue
			case fi.Mode().IsRegular():
				s.send(ctx, jobs, job{repo: w.repo, abs: full, rel: rel, size: fi.Size()}, display)
			default:
				s.skip(display, SkipSpecial, "not a regular file")
			}
			continue
		}
		switch {
		case e.IsDir():
			if name == ".git" {
				continue
			}
			if s.skipDir[name] {
				s.skip(display, SkipIgnoredDir, "folder name in the skip list")
				continue
			}
			sub := walkPos{abs: full, display: display, rel: rel, repo: w.repo, label: w.label, labelAbs: w.labelAbs,
				ancestors: append(w.ancestors[:len(w.ancestors):len(w.ancestors)], full)}
			if history.IsRepo(full) {
				r, err := s.newRepo(w.label, w.labelAbs, full, display, true)
				if err != nil {
					return fmt.Errorf("scanning %s: %w", display, err)
				}
				sub.repo, sub.rel = r, ""
			}
			if err := s.walkDir(ctx, sub, jobs); err != nil {
				return err
			}
		case t.IsRegular():
			info, err := e.Info()
			if err != nil {
				s.skip(display, SkipUnreadable, describe(err))
				continue
			}
			s.send(ctx, jobs, job{repo: w.repo, abs: full, rel: rel, size: info.Size()}, display)
		default:
			s.skip(display, SkipSpecial, "not a regular file")
		}
	}
	return nil
}

func isAncestor(target string, ancestors []string) bool {
	for _, a := range ancestors {
		if ra, err := filepath.EvalSymlinks(a); err == nil && ra == target {
			return true
		}
	}
	return false
}

// describe phrases a file-system error without repeating the path.
func describe(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (s *scanner) send(ctx context.Context, jobs chan<- job, j job, display string) {
	if j.size > s.maxSize {
		s.skip(display, SkipTooLarge, fmt.Sprintf("%d bytes, over the %d byte limit", j.size, s.maxSize))
		return
	}
	select {
	case jobs <- j:
	case <-ctx.Done():
	}
}

func (j job) display() string {
	return filepath.Join(j.repo.display, filepath.FromSlash(j.rel))
}

// read reads the file into buf (reused between files), or records why it
// could not.
func (s *scanner) read(j job, buf []byte) ([]byte, bool) {
	f, err := os.Open(j.abs)
	if err != nil {
		s.skip(j.display(), SkipUnreadable, describe(err))
		return buf, false
	}
	defer f.Close()
	want := int(min(j.size, s.maxSize)) + 1
	if cap(buf) < want {
		buf = make([]byte, 0, want+want/4)
	}
	buf = buf[:0]
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			s.skip(j.display(), SkipUnreadable, describe(err))
			return buf, false
		}
		if int64(len(buf)) > s.maxSize {
			s.skip(j.display(), SkipTooLarge, fmt.Sprintf("over the %d byte limit", s.maxSize))
			return buf, false
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grew while we read it
		}
	}
	return buf, true
}

func isBinary(b []byte) bool {
	return bytes.IndexByte(b[:min(len(b), binarySniff)], 0) >= 0
}

func (s *scanner) process(j job, buf []byte) []byte {
	buf, ok := s.read(j, buf)
	if !ok {
		return buf
	}
	content := buf
	if isBinary(content) {
		s.skip(j.display(), SkipBinary, "")
		return buf
	}
	s.files.Add(1)
	s.bytes.Add(int64(len(content)))
	j.repo.files.Add(1)

	var found []Finding
	if base := path.Base(j.rel); base == IgnoreFile || base == GitleaksIgnoreFile {
		// Lists of fingerprints and paths, read as ignore rules.
	} else if IsEnvFile(j.rel) {
		found = s.envFile(j, content)
	} else {
		found = s.hardcoded(j.rel, content, 0)
		if IsComposeFile(j.rel) {
			s.addComposeRefs(j.repo, j.rel, s.det.ComposeEnvFiles(content))
		}
		if s.er.Supported(j.rel) {
			reads, err := s.er.Reads(j.rel, content)
			if err != nil && len(reads) == 0 && !isSyntaxError(err) {
				s.skip(j.display(), SkipMalformed, "reading env-var uses: "+err.Error())
			}
			found = append(found, reads...)
		}
	}
	s.add(j.repo, found)
	return buf
}

func (s *scanner) add(repo *repoState, found []Finding) {
	if len(found) == 0 {
		return
	}
	for i := range found {
		f := &found[i]
		f.Root, f.Repo = repo.Root, repo.Name
		f.Hint = SafeHint(f.Hint)
		if s.opts.Fingerprinter != nil && !f.Value.IsZero() {
			f.Fingerprint = s.opts.Fingerprinter.Fingerprint(f.Value)
		}
		if f.IsSecret() {
			s.secrets.Add(1)
		}
	}
	s.mu.Lock()
	s.findings = append(s.findings, found...)
	s.mu.Unlock()
}

// hardcoded runs the detector over a text file; fromLine drops findings
// above it (for the unparsed rest of a malformed .env file).
func (s *scanner) hardcoded(rel string, content []byte, fromLine int) []Finding {
	found := s.det.Hardcoded(rel, content)
	out := found[:0]
	for _, f := range found {
		if f.Line < fromLine {
			continue
		}
		f.Kind, f.Path = KindHardcoded, rel
		if f.Classification == "" {
			f.Classification = ClassSecret
		}
		out = append(out, f)
	}
	return dedupe(out)
}

// genericRules are rules that only say "this looks like a key".
var genericRules = map[string]bool{"generic-api-key": true, "entropy": true, "key-name": true, "generic-secret": true}

// dedupe drops a hardcoded finding when another on the same line holds
// the same value under a more specific rule, or holds the value it is the
// base64 encoding of (a Kubernetes Secret found both as text and decoded):
// one value, one finding.
func dedupe(found []Finding) []Finding {
	if len(found) < 2 {
		return found
	}
	drop := make([]bool, len(found))
	for i := range found {
		for j := range found {
			if i == j || drop[j] || found[i].Line != found[j].Line {
				continue
			}
			a, b := found[i].Value.Reveal(), found[j].Value.Reveal()
			switch {
			case a == b:
				// Keep the more specific rule; among equals, the first.
				gi, gj := genericRules[found[i].Rule], genericRules[found[j].Rule]
				if gi && !gj || gi == gj && j < i {
					drop[i] = true
				}
			case b != "" && isBase64Of(a, b):
				drop[i] = true
			}
			if drop[i] {
				break
			}
		}
	}
	out := found[:0]
	for i, f := range found {
		if !drop[i] {
			out = append(out, f)
		}
	}
	return out
}

// isBase64Of reports whether enc is plain's base64 encoding (standard or
// URL alphabet, padded or not).
func isBase64Of(enc, plain string) bool {
	if len(enc) < len(plain) {
		return false
	}
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if e.EncodeToString([]byte(plain)) == enc {
			return true
		}
	}
	return false
}

// envFile reads a dotenv file's entries as env-file findings.
func (s *scanner) envFile(j job, content []byte) []Finding {
	j.repo.mu.Lock()
	j.repo.envDone[j.rel] = true
	j.repo.mu.Unlock()
	entries, err := dotenv.ParseBytes(content)
	template := IsEnvTemplate(j.rel)
	out := make([]Finding, 0, len(entries))
	for _, e := range entries {
		out = append(out, s.entryFinding(j.rel, e, template))
	}
	if err != nil {
		s.skip(j.display(), SkipMalformed, err.Error())
		// Whatever the parser could not read is still searched for keys.
		from := 1
		var pe *dotenv.Error
		if errors.As(err, &pe) {
			from = pe.Line
		}
		out = append(out, s.hardcoded(j.rel, content, from)...)
	}
	return out
}

func (s *scanner) entryFinding(rel string, e dotenv.Entry, template bool) Finding {
	v := s.det.ClassifyEntry(e.Key, e.Value)
	if template && v.Class == ClassSecret && v.Service == "" {
		v = Verdict{Class: ClassPlaceholder, Reason: "example file; not a known key format", Rule: v.Rule}
	}
	return Finding{
		Kind:           KindEnvFile,
		Path:           rel,
		Line:           e.Line,
		Column:         e.Column,
		Key:            e.Key,
		Rule:           v.Rule,
		Service:        v.Service,
		Classification: v.Class,
		Reason:         v.Reason,
		Hint:           v.Hint,
		Value:          e.Value,
	}
}

func (s *scanner) addComposeRefs(repo *repoState, composeRel string, refs []string) {
	dir := path.Dir(composeRel)
	repo.mu.Lock()
	defer repo.mu.Unlock()
	for _, r := range refs {
		r = filepath.ToSlash(r)
		if path.IsAbs(r) {
			continue
		}
		p := path.Join(dir, r)
		if p == ".." || strings.HasPrefix(p, "../") {
			continue // outside the repository
		}
		repo.composeRefs = append(repo.composeRefs, p)
	}
}

// composeFollowUp reads files named by Compose env_file: entries that were
// not already read as .env files (their names did not say so, or they sit
// in a skipped folder), replacing what the generic scan found in them.
func (s *scanner) composeFollowUp(ctx context.Context) {
	var buf []byte
	for _, repo := range s.repos {
		sort.Strings(repo.composeRefs)
		for _, rel := range repo.composeRefs {
			if ctx.Err() != nil || repo.envDone[rel] {
				continue
			}
			j := job{repo: repo, abs: filepath.Join(repo.dir, filepath.FromSlash(rel)), rel: rel}
			fi, err := os.Stat(j.abs)
			if err != nil || !fi.Mode().IsRegular() {
				continue // a missing env_file is Compose's problem, not a finding
			}
			j.size = fi.Size()
			if j.size > s.maxSize {
				s.skip(j.display(), SkipTooLarge, fmt.Sprintf("%d bytes, over the %d byte limit", j.size, s.maxSize))
				continue
			}
			var ok bool
			if buf, ok = s.read(j, buf); !ok {
				continue
			}
			if isBinary(buf) {
				continue // already recorded (or in a skipped folder and not text)
			}
			s.mu.Lock()
			kept := s.findings[:0]
			for _, f := range s.findings {
				if f.Root == repo.Root && f.Repo == repo.Name && f.Path == rel {
					if f.IsSecret() {
						s.secrets.Add(-1)
					}
					continue
				}
				kept = append(kept, f)
			}
			s.findings = kept
			s.mu.Unlock()
			if s.inSkippedDir(rel) {
				s.files.Add(1)
				s.bytes.Add(int64(len(buf)))
				repo.files.Add(1)
			}
			s.add(repo, s.envFile(j, buf))
		}
	}
	clear(buf)
}

// inSkippedDir reports whether the walk left rel unread because a folder
// above it is in the skip list.
func (s *scanner) inSkippedDir(rel string) bool {
	parts := strings.Split(rel, "/")
	for _, p := range parts[:len(parts)-1] {
		if s.skipDir[p] {
			return true
		}
	}
	return false
}

func isSyntaxError(err error) bool {
	return errors.Is(err, errSyntax)
}
