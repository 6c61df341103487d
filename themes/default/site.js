/* textbill dashboard: currency tabs, and the invoice table's sort, filters, search and grouping.
   Plain JavaScript, no framework, no network: the pages work from file:// as well. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // ------------------------------------------------------------------ tabs
  document.querySelectorAll(".tabs").forEach(function (tabs) {
    var card = tabs.closest(".card");
    tabs.addEventListener("click", function (ev) {
      var tab = ev.target.closest(".tab");
      if (!tab) return;
      tabs.querySelectorAll(".tab").forEach(function (t) {
        t.setAttribute("aria-selected", t === tab ? "true" : "false");
      });
      card.querySelectorAll(".tab-panel").forEach(function (p) {
        if (p.getAttribute("data-panel") === tab.getAttribute("data-tab")) p.removeAttribute("data-hidden");
        else p.setAttribute("data-hidden", "");
      });
    });
  });

  // ------------------------------------------------------------------ exact money for footers
  // Amounts arrive as strings with the currency's minor digits ("1234.50"); sums are done in
  // integer minor units (BigInt), so they are exact.
  function toMinor(text, digits) {
    var neg = text.charAt(0) === "-";
    var parts = text.replace("-", "").split(".");
    var frac = (parts[1] || "").padEnd(digits, "0").slice(0, digits);
    var v = BigInt(parts[0] + frac);
    return neg ? -v : v;
  }
  function formatMinor(v, digits, lang) {
    var neg = v < 0n;
    if (neg) v = -v;
    var scale = 10n ** BigInt(digits);
    var whole = new Intl.NumberFormat(lang, { useGrouping: true }).format(v / scale);
    var out = whole;
    if (digits > 0) {
      var sep = (new Intl.NumberFormat(lang).formatToParts(1.5).find(function (p) { return p.type === "decimal"; }) || { value: "." }).value;
      out += sep + String(v % scale).padStart(digits, "0");
    }
    return (neg ? "-" : "") + out;
  }

  // ------------------------------------------------------------------ the invoice table
  var AMOUNTS = ["net", "tax", "total", "paid", "credited", "outstanding"];

  function setupTable(table) {
    var id = table.id;
    var dataEl = document.querySelector('script.table-data[data-for="' + id + '"]');
    var data = dataEl ? JSON.parse(dataEl.textContent) : { digits: {}, lang: "en" };
    var tools = document.querySelector('.table-tools[data-for="' + id + '"]');
    var tbody = table.tBodies[0];
    var tfoot = table.tFoot;
    var footerHTML = tfoot ? tfoot.innerHTML : "";
    var headers = Array.prototype.slice.call(table.tHead.querySelectorAll("th[data-key]"));
    var keyIndex = {};
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (th.dataset.key) keyIndex[th.dataset.key] = i;
    });
    var ncols = table.tHead.rows[0].cells.length;
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.forEach(function (r, i) { r._order = i; });
    var noMatch = table.closest(".card").querySelector(".no-match");
    var countEl = tools && tools.querySelector(".shown-count");
    var state = { client: "", status: "", q: "", sort: "", group: false };

    function control(sel) { return tools ? tools.querySelector(sel) : null; }
    var clientSel = control('[data-filter="client"]');
    var statusSel = control('[data-filter="status"]');
    var search = control('[data-filter="text"]');
    var groupBox = control('[data-group="client"]');

    function cellValue(row, key) {
      var cell = row.cells[keyIndex[key]];
      return cell ? (cell.getAttribute("data-v") || "") : "";
    }

    function matches(row) {
      if (state.client && row.dataset.client !== state.client) return false;
      if (state.status && state.status.split(" ").indexOf(row.dataset.status) < 0) return false;
      if (state.q) {
        var hay = (row.dataset.number + " " + row.dataset.clientName + " " + row.dataset.client).toLowerCase();
        if (hay.indexOf(state.q.toLowerCase()) < 0) return false;
      }
      return true;
    }

    function compare(a, b) {
      if (!state.sort) return a._order - b._order;
      var desc = state.sort.charAt(0) === "-";
      var key = desc ? state.sort.slice(1) : state.sort;
      var th = table.tHead.querySelector('th[data-key="' + key + '"]');
      var va = cellValue(a, key), vb = cellValue(b, key), c;
      if (th && th.dataset.type === "num") c = parseFloat(va) - parseFloat(vb);
      else c = va.localeCompare(vb, undefined, { numeric: true, sensitivity: "base" });
      if (c === 0) c = a._order - b._order;
      else if (desc) c = -c;
      return c;
    }

    function sums(list) {
      var per = {};
      list.forEach(function (row) {
        var cur = row.dataset.currency, d = data.digits[cur] || 2;
        var s = per[cur] || (per[cur] = { count: 0 });
        s.count += 1;
        AMOUNTS.forEach(function (k) { s[k] = (s[k] || 0n) + toMinor(cellValue(row, k), d); });
      });
      return per;
    }

    function groupRow(name, list) {
      var tr = document.createElement("tr");
      tr.className = "group-row";
      var td = document.createElement("td");
      td.colSpan = ncols;
      var strong = document.createElement("span");
      strong.textContent = name;
      var count = document.createElement("span");
      count.className = "muted";
      count.textContent = list.length + (list.length === 1 ? " invoice" : " invoices");
      var sum = document.createElement("span");
      sum.className = "group-sum";
      var per = sums(list);
      sum.textContent = "outstanding " + Object.keys(per).sort().map(function (cur) {
        return cur + " " + formatMinor(per[cur].outstanding, data.digits[cur] || 2, data.lang);
      }).join(" · ");
      td.appendChild(strong); td.appendChild(count); td.appendChild(sum);
      tr.appendChild(td);
      return tr;
    }

    function renderFooter(visible, filtered) {
      if (!tfoot) return;
      if (!filtered) { tfoot.innerHTML = footerHTML; return; }
      tfoot.textContent = "";
      var per = sums(visible);
      var lead = keyIndex.currency;
      Object.keys(per).sort().forEach(function (cur) {
        var s = per[cur], d = data.digits[cur] || 2;
        var tr = document.createElement("tr");
        tr.className = "total";
        tr.dataset.currency = cur;
        var th = document.createElement("th");
        th.scope = "row"; th.colSpan = lead;
        th.textContent = "Total shown ";
        var small = document.createElement("span");
        small.className = "muted";
        small.textContent = "· " + s.count + (s.count === 1 ? " invoice" : " invoices");
        th.appendChild(small);
        tr.appendChild(th);
        var c = document.createElement("td"); c.className = "cur"; c.textContent = cur; tr.appendChild(c);
        AMOUNTS.forEach(function (k) {
          var td = document.createElement("td");
          td.className = "num"; td.dataset.sum = k;
          td.textContent = formatMinor(s[k], d, data.lang);
          tr.appendChild(td);
        });
        var rest = document.createElement("td"); rest.colSpan = ncols - lead - 1 - AMOUNTS.length;
        tr.appendChild(rest);
        tfoot.appendChild(tr);
      });
    }

    function render() {
      var visible = rows.filter(matches);
      var sorted = rows.slice().sort(compare);
      tbody.textContent = "";
      if (state.group) {
        var groups = {}, names = [];
        sorted.forEach(function (r) {
          if (!matches(r)) return;
          var name = r.dataset.clientName;
          if (!groups[name]) { groups[name] = []; names.push(name); }
          groups[name].push(r);
        });
        names.sort(function (a, b) { return a.localeCompare(b); });
        names.forEach(function (name) {
          tbody.appendChild(groupRow(name, groups[name]));
          groups[name].forEach(function (r) { tbody.appendChild(r); });
        });
        sorted.forEach(function (r) { if (!matches(r)) { r.hidden = true; tbody.appendChild(r); } });
      } else {
        sorted.forEach(function (r) { tbody.appendChild(r); });
      }
      rows.forEach(function (r) { r.hidden = !matches(r); });
      headers.forEach(function (th) {
        var key = th.dataset.key;
        th.setAttribute("aria-sort", state.sort === key ? "ascending" : state.sort === "-" + key ? "descending" : "none");
      });
      var filtered = visible.length !== rows.length;
      renderFooter(visible, filtered);
      if (noMatch) noMatch.hidden = visible.length > 0;
      if (countEl) {
        countEl.textContent = (filtered ? visible.length + " of " + rows.length : rows.length) +
          (rows.length === 1 ? " invoice" : " invoices");
      }
      table.setAttribute("data-shown", String(visible.length));
      saveHash();
    }

    // state in the address (#invoices?status=overdue&sort=-due), so a view can be bookmarked
    function saveHash() {
      if (!history.replaceState) return;
      var parts = [];
      ["client", "status", "q", "sort"].forEach(function (k) {
        if (state[k]) parts.push(k + "=" + encodeURIComponent(state[k]));
      });
      if (state.group) parts.push("group=1");
      var hash = parts.length ? "#invoices?" + parts.join("&") : (location.hash.indexOf("?") >= 0 ? "#invoices" : location.hash);
      if (hash !== location.hash) {
        try { history.replaceState(null, "", hash || location.pathname + location.search); } catch (e) { /* file:// in some browsers */ }
      }
    }
    function loadHash() {
      var h = location.hash, i = h.indexOf("?");
      if (i < 0) return;
      h.slice(i + 1).split("&").forEach(function (kv) {
        var p = kv.split("="), k = p[0], v = decodeURIComponent(p[1] || "");
        if (k === "group") state.group = v === "1";
        else if (k in state) state[k] = v;
      });
      if (clientSel) clientSel.value = state.client;
      if (clientSel && clientSel.value !== state.client) state.client = "";
      if (statusSel) statusSel.value = state.status;
      if (statusSel && statusSel.value !== state.status) state.status = "";
      if (search) search.value = state.q;
      if (groupBox) groupBox.checked = state.group;
    }

    headers.forEach(function (th) {
      th.querySelector("button").addEventListener("click", function () {
        var key = th.dataset.key;
        var firstDesc = th.dataset.type === "num";
        if (state.sort === key) state.sort = "-" + key;
        else if (state.sort === "-" + key) state.sort = key;
        else state.sort = firstDesc ? "-" + key : key;
        render();
      });
    });
    if (clientSel) clientSel.addEventListener("change", function () { state.client = clientSel.value; render(); });
    if (statusSel) statusSel.addEventListener("change", function () { state.status = statusSel.value; render(); });
    if (search) search.addEventListener("input", function () { state.q = search.value.trim(); render(); });
    if (groupBox) groupBox.addEventListener("change", function () { state.group = groupBox.checked; render(); });

    loadHash();
    render();
  }

  document.querySelectorAll("table[data-sortable]").forEach(setupTable);

  // "show all" under folded lists
  document.querySelectorAll(".more-toggle").forEach(function (button) {
    button.addEventListener("click", function () {
      var table = document.getElementById(button.getAttribute("data-toggle"));
      var folded = table.classList.toggle("folded");
      button.textContent = button.getAttribute(folded ? "data-more" : "data-less");
    });
  });

  // close the clients menu when clicking elsewhere
  document.addEventListener("click", function (ev) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (!d.contains(ev.target)) d.removeAttribute("open");
    });
  });
})();
