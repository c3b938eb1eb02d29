// Sends one of each Segment call through the real @segment/analytics-node to
// an Inlet server, then reports what the library saw as one JSON line on
// stdout. Used by web/analyticsnode_test.go; also handy by hand:
//
//   node send.js http://localhost:8080 "$WRITE_KEY" [messageIdPrefix]
//
// Exit status 0 when every event was delivered, 1 when the library reported
// any failure, 2 on bad arguments.
'use strict'

const { Analytics } = require('@segment/analytics-node')

const [host, writeKey, prefix = 'an'] = process.argv.slice(2)
if (!host || !writeKey) {
  console.error('usage: node send.js HOST WRITE_KEY [MESSAGE_ID_PREFIX]')
  process.exit(2)
}

// maxRetries 1 keeps a refused run short; flushAt 100 sends all six calls in
// one batch, the way a busy server sends them.
const analytics = new Analytics({ writeKey, host, maxRetries: 1, flushAt: 100, httpRequestTimeout: 10000 })

const errors = []
const statuses = []
analytics.on('error', (err) => {
  const reason = err && err.reason ? String(err.reason.message || err.reason) : String(err)
  errors.push({ code: err && err.code, reason })
  console.error('analytics-node error:', err && err.code, reason)
})
analytics.on('http_response', (res) => statuses.push(res.status))

const id = (kind) => `${prefix}-${kind}`
const at = new Date('2026-05-01T10:00:00.000Z')
analytics.identify({ messageId: id('identify'), userId: 'user-1', traits: { email: 'ada@example.com', plan: 'team' }, timestamp: at })
analytics.track({ messageId: id('track'), userId: 'user-1', event: 'Order Completed', properties: { total: 42.5, currency: 'EUR', note: 'ünïcödé ✓' }, timestamp: at })
analytics.page({ messageId: id('page'), userId: 'user-1', category: 'Docs', name: 'Pricing', properties: { path: '/pricing' }, timestamp: at })
analytics.screen({ messageId: id('screen'), userId: 'user-1', name: 'Home', timestamp: at })
analytics.group({ messageId: id('group'), userId: 'user-1', groupId: 'acme', traits: { name: 'Acme' }, timestamp: at })
analytics.alias({ messageId: id('alias'), userId: 'user-1', previousId: 'anon-1', timestamp: at })

analytics
  .closeAndFlush({ timeout: 30000 })
  .then(() => {
    const ok = errors.length === 0
    console.log(JSON.stringify({ ok, errors, statuses }))
    process.exit(ok ? 0 : 1)
  })
  .catch((err) => {
    console.error('closeAndFlush failed:', err)
    console.log(JSON.stringify({ ok: false, errors: [...errors, { code: 'flush', reason: String(err) }], statuses }))
    process.exit(1)
  })
