//go:build linux

package safety

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// eventCount is how many file system events the watcher has seen.
var eventCount atomic.Int64

// killAfterEvents watches every folder under the JSON list of roots in
// watch (not .git) with inotify and SIGKILLs this process right after
// the n-th event: a crash at an exact, reproducible-ish point of a
// rewrite's writes (creating a temp file, writing it, renaming it). With
// n == 0 it only counts; eventsSeen reports the count.
func killAfterEvents(n, watch string) error {
	limit, err := strconv.ParseInt(n, 10, 64)
	if err != nil || limit < 0 {
		return fmt.Errorf("bad event count %q", n)
	}
	var roots []string
	if err := json.Unmarshal([]byte(watch), &roots); err != nil {
		return fmt.Errorf("bad watch list: %w", err)
	}
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("inotify: %w", err)
	}
	const mask = syscall.IN_CREATE | syscall.IN_MODIFY | syscall.IN_CLOSE_WRITE | syscall.IN_MOVED_FROM |
		syscall.IN_MOVED_TO | syscall.IN_DELETE | syscall.IN_ATTRIB
	dirs := map[int32]string{}
	for _, r := range roots {
		err := filepath.WalkDir(r, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			wd, err := syscall.InotifyAddWatch(fd, p, mask)
			dirs[int32(wd)] = p
			return err
		})
		if err != nil {
			return fmt.Errorf("watching %s: %w", r, err)
		}
	}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			k, err := syscall.Read(fd, buf)
			if err != nil || k <= 0 {
				return
			}
			for off := 0; off+syscall.SizeofInotifyEvent <= k; {
				ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
				name := buf[off+syscall.SizeofInotifyEvent : off+syscall.SizeofInotifyEvent+int(ev.Len)]
				off += syscall.SizeofInotifyEvent + int(ev.Len)
				if ev.Mask&syscall.IN_ISDIR != 0 && ev.Mask&syscall.IN_CREATE != 0 {
					// A new folder (a generated helper package): watch it too.
					if parent, ok := dirs[ev.Wd]; ok {
						p := filepath.Join(parent, strings.TrimRight(string(name), "\x00"))
						if wd, err := syscall.InotifyAddWatch(fd, p, mask); err == nil {
							dirs[int32(wd)] = p
						}
					}
				}
				if c := eventCount.Add(1); limit > 0 && c >= limit {
					_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
					select {} // the kernel takes it from here
				}
			}
		}
	}()
	return nil
}

// eventsSeen waits for the watcher to drain what is queued and returns
// the number of events it saw.
func eventsSeen() int64 {
	time.Sleep(100 * time.Millisecond)
	return eventCount.Load()
}
