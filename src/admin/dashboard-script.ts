/**
 * The dashboard's script (issue #12): plain ES2017 for the browser, inline in
 * the page, no build step. It follows GET events (the live feed, a relative
 * URL so the page works behind a path prefix) and redraws from each whole
 * state. Every value from the feed goes in as text (textContent,
 * setAttribute), never as markup: route names, files and messages cannot
 * inject anything.
 */
export const DASHBOARD_SCRIPT = String.raw`
(function () {
  'use strict'
  var byId = function (id) { return document.getElementById(id) }
  var COLUMNS = [
    ['route', 'Route', ''], ['target', 'Target', ''], ['source', 'Source', ''], ['status', 'Status', ''], ['health', 'Health', ''],
    ['rps', 'req/s', 'n'], ['err', 'Errors', 'n'], ['p50', 'p50', 'n'], ['p99', 'p99', 'n'], ['tunnels', 'Tunnels', 'n'],
    ['in', 'In', 'n'], ['out', 'Out', 'n']
  ]
  var rowsBody = byId('route-rows')
  var filterInput = byId('filter')
  var live = byId('live')
  var rows = new Map()
  var shownErrors = ''
  var shownProblems = ''
  var lastMessageAt = 0

  function el (tag, className, text) {
    var node = document.createElement(tag)
    if (className) node.className = className
    if (text !== undefined) node.textContent = text
    return node
  }
  function setText (node, text) { if (node.textContent !== text) node.textContent = text }
  function setClass (node, name) { if (node.className !== name) node.className = name }

  function rate (n) {
    if (!n) return '0'
    if (n < 10) return n.toFixed(1)
    if (n < 1000) return String(Math.round(n))
    return (n / 1000).toFixed(1) + 'k'
  }
  function percent (r) {
    if (!r) return '0%'
    var p = r * 100
    return (p < 10 ? p.toFixed(1) : String(Math.round(p))) + '%'
  }
  function millis (ms) {
    if (ms === null || ms === undefined) return '\u2013'
    if (ms < 10) return ms.toFixed(1) + ' ms'
    if (ms < 1000) return Math.round(ms) + ' ms'
    return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s'
  }
  var UNITS = ['B', 'kB', 'MB', 'GB', 'TB']
  function bytes (b) {
    if (!b) return '0 B'
    var i = 0
    while (b >= 1000 && i < UNITS.length - 1) { b /= 1000; i++ }
    return (i === 0 ? String(b) : b.toFixed(b < 10 ? 1 : 0)) + ' ' + UNITS[i]
  }
  function duration (seconds) {
    var s = Math.max(0, Math.round(seconds))
    if (s < 60) return s + ' s'
    var m = Math.floor(s / 60)
    if (m < 60) return m + ' min'
    var h = Math.floor(m / 60)
    if (h < 48) return h + ' h ' + (m % 60) + ' min'
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h'
  }
  function clock (iso) {
    var d = new Date(iso)
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString([], { hour12: false })
  }

  function makeRow () {
    var tr = el('tr')
    var c = {}
    COLUMNS.forEach(function (col) {
      var td = el('td', 'c-' + col[0] + (col[2] ? ' ' + col[2] : ''))
      td.setAttribute('data-label', col[1])
      tr.appendChild(td)
      c[col[0]] = td
    })
    c.link = c.route.appendChild(el('a'))
    c.targetText = c.target.appendChild(el('span', 'mono'))
    c.ws = c.target.appendChild(el('span', 'tag', 'ws'))
    c.ws.title = 'WebSocket upgrades allowed'
    c.statusBadge = c.status.appendChild(el('span'))
    c.healthBadge = c.health.appendChild(el('span'))
    c.healthInfo = c.health.appendChild(el('span', 'sub'))
    return { tr: tr, c: c, search: '' }
  }

  function updateRow (row, route, now) {
    var c = row.c
    setText(c.link, route.prefix)
    // Relative to the dashboard's own URL, so the link survives a path prefix in front of the router.
    var href = '..' + route.prefix
    if (c.link.getAttribute('href') !== href) c.link.setAttribute('href', href)
    setText(c.targetText, route.target)
    c.ws.hidden = !route.websocket
    setText(c.source, route.source === 'file' ? (route.file || 'route file') : 'discovered')
    setText(c.statusBadge, route.status)
    setClass(c.statusBadge, 'badge s-' + route.status)
    setText(c.healthBadge, route.health)
    setClass(c.healthBadge, 'badge h-' + route.health)
    var info = route.healthCause || ''
    if (route.healthSince) {
      var since = Date.parse(route.healthSince)
      if (!isNaN(since)) info = (info ? info + ' \u00b7 ' : '') + 'for ' + duration((now - since) / 1000)
      c.health.title = 'since ' + route.healthSince
    }
    setText(c.healthInfo, info)
    c.healthInfo.hidden = info === ''
    setText(c.rps, rate(route.requestsPerSecond))
    setText(c.err, percent(route.errorRate))
    setClass(c.err, 'c-err n' + (route.errorRate > 0 ? ' hot' : ''))
    setText(c.p50, millis(route.p50Ms))
    setText(c.p99, millis(route.p99Ms))
    setText(c.tunnels, String(route.tunnelsOpen))
    setText(c['in'], bytes(route.bytesIn))
    setText(c.out, bytes(route.bytesOut))
    setClass(row.tr, route.status === 'down' ? 'row-down' : 'row-' + route.health)
    row.search = [route.prefix, route.target, route.source, route.file || '', route.status, route.health].join(' ').toLowerCase()
  }

  function applyFilter () {
    var q = filterInput.value.trim().toLowerCase()
    var shown = 0
    rows.forEach(function (row) {
      row.tr.hidden = q !== '' && row.search.indexOf(q) === -1
      if (!row.tr.hidden) shown++
    })
    byId('no-match').hidden = q === '' || shown > 0 || rows.size === 0
  }

  function renderRoutes (routes, now) {
    var seen = new Set()
    routes.forEach(function (route) { seen.add(route.prefix) })
    rows.forEach(function (row, prefix) {
      if (!seen.has(prefix)) { row.tr.remove(); rows.delete(prefix) }
    })
    routes.forEach(function (route, i) {
      var row = rows.get(route.prefix)
      if (!row) { row = makeRow(); rows.set(route.prefix, row) }
      updateRow(row, route, now)
      if (rowsBody.children[i] !== row.tr) rowsBody.insertBefore(row.tr, rowsBody.children[i] || null)
    })
    byId('no-routes').hidden = routes.length > 0
    applyFilter()
  }

  function cell (tr, name, label, text, className) {
    var td = tr.appendChild(el('td', 'c-' + name + (className ? ' ' + className : ''), text))
    td.setAttribute('data-label', label)
    return td
  }

  var SHOWN_ERRORS = 10

  function renderErrors (errors) {
    var key = JSON.stringify(errors)
    if (key === shownErrors) return
    shownErrors = key
    var body = document.createDocumentFragment()
    // The newest few fit a screen; the feed keeps 50, and /_sockrouter/state has them all.
    errors.slice(0, SHOWN_ERRORS).forEach(function (e) {
      var tr = el('tr')
      cell(tr, 'time', 'Time', clock(e.at)).title = e.at
      cell(tr, 'eroute', 'Route', e.route || '(no route)', 'mono')
      cell(tr, 'status', 'Status', String(e.status), 'n hot')
      cell(tr, 'code', 'Code', e.code, 'mono')
      cell(tr, 'request', 'Request', e.method + ' ' + e.path, 'mono')
      body.appendChild(tr)
    })
    byId('error-rows').replaceChildren(body)
    byId('errors').hidden = errors.length === 0
    byId('no-errors').hidden = errors.length > 0
    setText(byId('error-count'), errors.length === 0 ? '' : errors.length > SHOWN_ERRORS ? 'newest ' + SHOWN_ERRORS + ' of ' + errors.length : String(errors.length))
  }

  function renderProblems (router) {
    var key = JSON.stringify([router.configErrors, router.rescanError])
    if (key === shownProblems) return
    shownProblems = key
    var list = byId('config-errors')
    var items = document.createDocumentFragment()
    router.configErrors.forEach(function (line) { items.appendChild(el('li', '', line)) })
    list.replaceChildren(items)
    list.hidden = router.configErrors.length === 0
    var rescan = byId('rescan-error')
    rescan.textContent = router.rescanError ? 'Rescan failing since ' + clock(router.rescanError.since) + ': ' + router.rescanError.message : ''
    rescan.hidden = !router.rescanError
    byId('problems').hidden = router.configErrors.length === 0 && !router.rescanError
  }

  function stat (id, value, tone) {
    var node = byId(id)
    setText(node.querySelector('.num'), value)
    setClass(node, 'stat' + (tone ? ' ' + tone : ''))
  }

  function render (state) {
    var now = Date.parse(state.at) || Date.now()
    var router = state.router
    setText(byId('version'), 'v' + router.version)
    var status = byId('router-status')
    setText(status, router.status)
    setClass(status, 'badge r-' + router.status)
    setText(byId('uptime'), 'up ' + duration(router.uptimeSeconds))
    var rps = 0
    var tunnels = 0
    var down = 0
    state.routes.forEach(function (r) {
      rps += r.requestsPerSecond
      tunnels += r.tunnelsOpen
      if (r.status === 'down') down++
    })
    var h = state.health
    stat('n-routes', String(state.routes.length), '')
    stat('n-healthy', String(h.healthy), h.healthy > 0 ? 'ok' : '')
    stat('n-unhealthy', String(h.unhealthy), h.unhealthy > 0 ? 'warn' : '')
    stat('n-unreachable', String(h.unreachable), h.unreachable > 0 ? 'bad' : '')
    stat('n-unknown', String(h.unknown), '')
    stat('n-rps', rate(rps), '')
    stat('n-tunnels', String(tunnels), '')
    renderProblems(router)
    renderRoutes(state.routes, now)
    renderErrors(state.errors)
    var trouble = router.status !== 'ok' || h.unhealthy + h.unreachable + down > 0
    document.title = (trouble ? '\u26a0 ' : '') + 'sockrouter \u00b7 ' + state.routes.length + ' route' + (state.routes.length === 1 ? '' : 's')
    byId('updated').textContent = 'updated ' + clock(state.at)
    document.body.setAttribute('data-state-at', state.at)
  }

  function setLive (mode, text) {
    setClass(live, 'live ' + mode)
    setText(live, text)
  }

  function connect () {
    var source = new EventSource('events')
    source.addEventListener('state', function (event) {
      var state
      try { state = JSON.parse(event.data) } catch (err) { return }
      lastMessageAt = Date.now()
      setLive('on', 'live')
      render(state)
    })
    source.addEventListener('error', function () {
      if (source.readyState === EventSource.CLOSED) {
        // A refusal (the router shutting down) ends the EventSource for good: start a new one a little later.
        setLive('off', 'disconnected')
        setTimeout(connect, 3000)
      } else {
        setLive('wait', 'reconnecting\u2026')
      }
    })
  }

  filterInput.addEventListener('input', applyFilter)
  setInterval(function () {
    if (lastMessageAt !== 0 && Date.now() - lastMessageAt > 5000) setLive('wait', 'no update for ' + duration((Date.now() - lastMessageAt) / 1000))
  }, 1000)
  connect()
})()
`
