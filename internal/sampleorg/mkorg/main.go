// Command mkorg writes the sample organisation into a folder:
//
//	go run ./internal/sampleorg/mkorg DIR
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/env2vault/env2vault/internal/sampleorg"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkorg DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		fmt.Fprintf(os.Stderr, "mkorg: %s is not empty\n", dir)
		os.Exit(2)
	}
	if _, err := sampleorg.Build(context.Background(), dir); err != nil {
		fmt.Fprintln(os.Stderr, "mkorg:", err)
		os.Exit(1)
	}
	fmt.Println(dir)
}
