package envread

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

type corpusFile struct {
	path    string
	content []byte
}

// loadCorpus reads the supported files under the given roots into memory
// (at most limit files per root).
func loadCorpus(b *testing.B, roots []string, limit int) []corpusFile {
	b.Helper()
	var files []corpusFile
	for _, root := range roots {
		n := 0
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || n >= limit {
				return filepath.SkipDir
			}
			if d.IsDir() || !Supported(p) {
				return nil
			}
			c, err := os.ReadFile(p)
			if err == nil {
				files = append(files, corpusFile{p, c})
				n++
			}
			return nil
		})
	}
	if len(files) == 0 {
		b.Skip("no corpus on this machine")
	}
	return files
}

// BenchmarkReadsCorpus runs Reads over real code bases found on the
// machine (Go's standard library, Python's, npm's JavaScript) with one
// worker per CPU, as the scan does. It reports files/s and the share of
// files that had to be parsed.
func BenchmarkReadsCorpus(b *testing.B) {
	roots := []string{filepath.Join(runtime.GOROOT(), "src")}
	if out, err := exec.Command("python3", "-c", "import sysconfig;print(sysconfig.get_paths()['stdlib'])").Output(); err == nil {
		roots = append(roots, strings.TrimSpace(string(out)))
	}
	roots = append(roots, "/usr/lib/node_modules", "/usr/local/lib/node_modules")
	files := loadCorpus(b, roots, 20000)
	var bytes int64
	for _, f := range files {
		bytes += int64(len(f.content))
	}
	b.SetBytes(bytes)
	b.ResetTimer()
	var reads atomic.Int64
	for b.Loop() {
		reads.Store(0)
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < runtime.GOMAXPROCS(0); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(files) {
						return
					}
					r, _ := Reads(files[i].path, files[i].content)
					reads.Add(int64(len(r)))
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(len(files))*float64(b.N)/b.Elapsed().Seconds(), "files/s")
	b.ReportMetric(float64(len(files)), "files")
	b.ReportMetric(float64(reads.Load()), "reads")
}
