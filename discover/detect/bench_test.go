package detect

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	gldetect "github.com/zricethezav/gitleaks/v8/detect"

	"github.com/env2vault/env2vault/secret"
)

// gorootFiles lists the text files under $GOROOT/src (files with a NUL
// byte in their first 8 KiB count as binary, as the discover walker
// treats them).
func gorootFiles(b *testing.B) []string {
	b.Helper()
	root := filepath.Join(runtime.GOROOT(), "src")
	var files []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		b.Skip("no GOROOT sources:", err)
	}
	return files
}

func readText(p string) ([]byte, bool) {
	data, err := os.ReadFile(p)
	if err != nil || bytes.IndexByte(data[:min(len(data), 8192)], 0) >= 0 {
		return nil, false
	}
	return data, true
}

// scanAll reads and scans files with one worker per CPU, like the scan
// command, and returns the bytes scanned and the leaks found.
func scanAll(files []string, scan func(path string, data []byte) int) (int64, int) {
	var mu sync.Mutex
	var bytesN int64
	var leaks int
	ch := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int64
			var l int
			for p := range ch {
				data, ok := readText(p)
				if !ok {
					continue
				}
				n += int64(len(data))
				l += scan(p, data)
			}
			mu.Lock()
			bytesN += n
			leaks += l
			mu.Unlock()
		}()
	}
	for _, f := range files {
		ch <- f
	}
	close(ch)
	wg.Wait()
	return bytesN, leaks
}

// BenchmarkScanGOROOT scans all of $GOROOT/src with Detector.Scan.
// Compare with BenchmarkGitleaksGOROOT (gitleaks' own Detect, same files,
// same decode depth) and with `gitleaks dir $(go env GOROOT)/src`:
//
//	go test ./discover/detect -run '^$' -bench GOROOT -benchtime 1x
func BenchmarkScanGOROOT(b *testing.B) {
	files := gorootFiles(b)
	d := detector(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, leaks := scanAll(files, func(p string, data []byte) int { return len(d.Scan(p, data)) })
		b.SetBytes(n)
		b.ReportMetric(float64(leaks), "leaks")
	}
}

// BenchmarkEngineGOROOT runs only the gitleaks-equivalent engine.
func BenchmarkEngineGOROOT(b *testing.B) {
	files := gorootFiles(b)
	e, err := defaultEngine()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, found := scanAll(files, func(p string, data []byte) int { return len(e.detect(p, string(data))) })
		b.SetBytes(n)
		b.ReportMetric(float64(found), "findings")
	}
}

// BenchmarkGitleaksGOROOT runs gitleaks' Detect on whole files, the
// baseline the engine must beat while finding the same.
func BenchmarkGitleaksGOROOT(b *testing.B) {
	files := gorootFiles(b)
	e, err := defaultEngine()
	if err != nil {
		b.Fatal(err)
	}
	gl := gldetect.NewDetector(e.cfg)
	gl.MaxDecodeDepth = maxDecodeDepth
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, found := scanAll(files, func(p string, data []byte) int {
			return len(gl.Detect(gldetect.Fragment{Raw: string(data), FilePath: p}))
		})
		b.SetBytes(n)
		b.ReportMetric(float64(found), "findings")
	}
}

// BenchmarkScanFile measures one mid-sized source file.
func BenchmarkScanFile(b *testing.B) {
	data, ok := readText(filepath.Join(runtime.GOROOT(), "src", "net", "http", "server.go"))
	if !ok {
		b.Skip("no GOROOT sources")
	}
	d := detector(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Scan("net/http/server.go", data)
	}
}

// BenchmarkClassifyEntry measures classifying one .env entry.
func BenchmarkClassifyEntry(b *testing.B) {
	d := detector(b)
	v := fakeValue(fake("sk", "_live_", tail(91, 32, alnum)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d.ClassifyEntry("STRIPE_SECRET_KEY", v)
	}
}

func fakeValue(s string) secret.Value { return secret.New(s) }
