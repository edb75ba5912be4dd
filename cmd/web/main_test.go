package main

import (
	"os"
	"testing"

	"github.com/dockmap/dockmap/internal/dockertest"
)

func TestMain(m *testing.M) { os.Exit(dockertest.Main(m)) }
