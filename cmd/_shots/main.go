package main

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	base := os.Args[1]
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath("/usr/bin/chromium"), chromedp.NoSandbox, chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	shot := func(name string) {
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			panic(err)
		}
		os.WriteFile("/tmp/smoke/"+name+".png", b, 0o644)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(`input[name=email]`, "a@example.com"),
		chromedp.SendKeys(`input[name=password]`, "a long password 123"),
		chromedp.Submit(`input[name=password]`),
		chromedp.Sleep(time.Second),
	)
	if err != nil {
		panic(err)
	}
	for _, p := range []string{"settings", "events", "users", "users/user_8812", "destinations"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/dashboard/"+p), chromedp.Sleep(time.Second)); err != nil {
			panic(err)
		}
		shot(strings.ReplaceAll(p, "/", "_"))
	}
}
