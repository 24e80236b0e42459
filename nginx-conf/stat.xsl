<?xml version="1.0" encoding="utf-8"?>
<!--
  ngx-rtmp: a live HTML view of the /stat XML document.

  Serve it next to /stat and name it in rtmp_stat_stylesheet:

      location /stat     { rtmp_stat all; rtmp_stat_stylesheet /stat.xsl; }
      location /stat.xsl { root /path/to/nginx-conf; }

  The browser applies it to /stat; the page reloads itself every five seconds.
  It can also be run offline: xsltproc stat.xsl saved-stat.xml > stat.html
-->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">

<xsl:output method="html" encoding="utf-8" indent="yes"
            doctype-system="about:legacy-compat"/>

<!-- ============================================================ page -->

<xsl:template match="/">
  <html lang="en">
    <head>
      <meta charset="utf-8"/>
      <meta http-equiv="refresh" content="5"/>
      <meta name="viewport" content="width=device-width, initial-scale=1"/>
      <title>RTMP statistics</title>
      <style>
        :root { --ink:#1d2433; --muted:#6b7385; --line:#e3e6ee; --bg:#f5f6fa;
                --card:#ffffff; --accent:#2b6cb0; --on:#1f9d55; --warn:#c05621; }
        * { box-sizing: border-box; }
        body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
               "Helvetica Neue", Arial, sans-serif; color:var(--ink); background:var(--bg); }
        header { background:#1d2433; color:#fff; padding:14px 24px; display:flex;
                 flex-wrap:wrap; align-items:baseline; gap:8px 28px; }
        header h1 { font-size:18px; margin:0 12px 0 0; font-weight:600; }
        header .kv { display:flex; flex-direction:column; }
        header .k { font-size:11px; text-transform:uppercase; letter-spacing:.06em;
                    color:#9aa4b8; }
        header .v { font-size:16px; font-variant-numeric:tabular-nums; }
        main { padding:16px 24px 32px; max-width:1400px; }
        section.app { background:var(--card); border:1px solid var(--line);
                      border-radius:8px; margin:0 0 18px; overflow:hidden; }
        section.app h2 { font-size:15px; margin:0; padding:10px 14px;
                         border-bottom:1px solid var(--line); display:flex; gap:12px;
                         align-items:baseline; }
        section.app h2 .srv, section.app h2 .count { color:var(--muted); font-weight:400;
                                                   font-size:13px; }
        table { border-collapse:collapse; width:100%; }
        th { text-align:left; font-size:11px; text-transform:uppercase;
             letter-spacing:.05em; color:var(--muted); font-weight:600;
             padding:8px 14px; background:#fafbfd; border-bottom:1px solid var(--line); }
        td { padding:8px 14px; border-bottom:1px solid var(--line); vertical-align:top; }
        td.num, th.num { text-align:right; font-variant-numeric:tabular-nums;
                         white-space:nowrap; }
        tr.stream td { border-bottom:none; }
        tr.stream td.name { font-weight:600; word-break:break-all; }
        .sub { color:var(--muted); font-size:12px; }
        tr.clients > td { padding:0 14px 12px 34px; }
        table.clients { background:#fafbfd; border:1px solid var(--line); border-radius:6px; }
        table.clients th { background:none; padding:5px 10px; }
        table.clients td { padding:4px 10px; font-size:13px; border-bottom:none; }
        table.clients td.addr, table.clients td.ver { word-break:break-all; }
        .badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px;
                 font-weight:600; background:#edf0f5; color:var(--muted); }
        .badge.live { background:#e3f6ea; color:var(--on); }
        .badge.pub  { background:#fdf0e6; color:var(--warn); }
        .badge.play { background:#e8f0fb; color:var(--accent); }
        .empty { padding:12px 14px; color:var(--muted); font-style:italic; }
        .bad { color:var(--warn); font-weight:600; }
        footer { color:var(--muted); font-size:12px; padding:0 24px 24px; }
      </style>
    </head>
    <body>
      <xsl:apply-templates select="rtmp"/>
    </body>
  </html>
</xsl:template>

<xsl:template match="rtmp">
  <header>
    <h1>RTMP statistics</h1>
    <div class="kv"><span class="k">nginx</span>
      <span class="v"><xsl:value-of select="nginx_version"/></span></div>
    <div class="kv"><span class="k">uptime</span>
      <span class="v">
        <xsl:call-template name="duration">
          <xsl:with-param name="secs" select="uptime"/>
        </xsl:call-template>
      </span></div>
    <div class="kv"><span class="k">in</span>
      <span class="v"><xsl:call-template name="bits">
        <xsl:with-param name="n" select="bw_in"/></xsl:call-template></span></div>
    <div class="kv"><span class="k">out</span>
      <span class="v"><xsl:call-template name="bits">
        <xsl:with-param name="n" select="bw_out"/></xsl:call-template></span></div>
    <div class="kv"><span class="k">streams</span>
      <span class="v"><xsl:value-of select="count(server/application/live/stream)"/></span></div>
    <div class="kv"><span class="k">clients</span>
      <span class="v"><xsl:value-of select="sum(server/application/live/nclients)"/></span></div>
    <div class="kv"><span class="k">received</span>
      <span class="v"><xsl:call-template name="bytes">
        <xsl:with-param name="n" select="bytes_in"/></xsl:call-template></span></div>
    <div class="kv"><span class="k">sent</span>
      <span class="v"><xsl:call-template name="bytes">
        <xsl:with-param name="n" select="bytes_out"/></xsl:call-template></span></div>
    <div class="kv"><span class="k">connections</span>
      <span class="v"><xsl:value-of select="naccepted"/></span></div>
  </header>
  <main>
    <xsl:apply-templates select="server/application"/>
    <xsl:if test="not(server/application)">
      <p class="empty">No RTMP applications are configured.</p>
    </xsl:if>
  </main>
  <footer>
    pid <xsl:value-of select="pid"/>
    <xsl:if test="built != ''"> · built <xsl:value-of select="built"/></xsl:if>
    <xsl:if test="compiler"> · <xsl:value-of select="compiler"/></xsl:if>
    · refreshes every 5 s
  </footer>
</xsl:template>

<!-- ============================================================ application -->

<xsl:template match="application">
  <section class="app">
    <h2>
      <span><xsl:value-of select="name"/></span>
      <xsl:if test="count(/rtmp/server) &gt; 1">
        <span class="srv">server <xsl:value-of select="count(../preceding-sibling::server) + 1"/></span>
      </xsl:if>
      <xsl:if test="live">
        <span class="count">
          <xsl:value-of select="count(live/stream)"/> stream<xsl:if test="count(live/stream) != 1">s</xsl:if>,
          <xsl:value-of select="live/nclients"/> client<xsl:if test="live/nclients != 1">s</xsl:if>
        </span>
      </xsl:if>
    </h2>
    <xsl:choose>
      <xsl:when test="not(live)">
        <div class="empty">Not a live application.</div>
      </xsl:when>
      <xsl:when test="not(live/stream)">
        <div class="empty">No streams.</div>
      </xsl:when>
      <xsl:otherwise>
        <table>
          <thead>
            <tr>
              <th>Stream</th>
              <th>Video</th>
              <th>Audio</th>
              <th class="num">In</th>
              <th class="num">Out</th>
              <th class="num">Clients</th>
              <th>State</th>
              <th class="num">Uptime</th>
            </tr>
          </thead>
          <tbody>
            <xsl:apply-templates select="live/stream"/>
          </tbody>
        </table>
      </xsl:otherwise>
    </xsl:choose>
  </section>
</xsl:template>

<!-- ============================================================ stream -->

<xsl:template match="stream">
  <tr class="stream">
    <td class="name"><xsl:value-of select="name"/></td>
    <td>
      <xsl:choose>
        <xsl:when test="meta/video/width &gt; 0 or meta/video/codec">
          <xsl:value-of select="meta/video/codec"/>
          <xsl:if test="meta/video/profile">
            <xsl:text> </xsl:text><xsl:value-of select="meta/video/profile"/>
          </xsl:if>
          <xsl:if test="meta/video/level">
            <xsl:text> </xsl:text><xsl:value-of select="meta/video/level"/>
          </xsl:if>
          <div class="sub">
            <xsl:if test="meta/video/width &gt; 0">
              <xsl:value-of select="meta/video/width"/>×<xsl:value-of select="meta/video/height"/>
            </xsl:if>
            <xsl:if test="meta/video/frame_rate &gt; 0">
              <xsl:text> @ </xsl:text><xsl:value-of select="meta/video/frame_rate"/> fps
            </xsl:if>
          </div>
        </xsl:when>
        <xsl:otherwise><span class="sub">–</span></xsl:otherwise>
      </xsl:choose>
    </td>
    <td>
      <xsl:choose>
        <xsl:when test="meta/audio/codec">
          <xsl:value-of select="meta/audio/codec"/>
          <xsl:if test="meta/audio/profile">
            <xsl:text> </xsl:text><xsl:value-of select="meta/audio/profile"/>
          </xsl:if>
          <div class="sub">
            <xsl:if test="meta/audio/sample_rate">
              <xsl:value-of select="format-number(meta/audio/sample_rate div 1000, '0.#')"/> kHz
            </xsl:if>
            <xsl:choose>
              <xsl:when test="meta/audio/channels = 1"> · mono</xsl:when>
              <xsl:when test="meta/audio/channels = 2"> · stereo</xsl:when>
              <xsl:when test="meta/audio/channels">
                · <xsl:value-of select="meta/audio/channels"/> ch</xsl:when>
            </xsl:choose>
          </div>
        </xsl:when>
        <xsl:otherwise><span class="sub">–</span></xsl:otherwise>
      </xsl:choose>
    </td>
    <td class="num">
      <xsl:call-template name="bits"><xsl:with-param name="n" select="bw_in"/></xsl:call-template>
      <div class="sub"><xsl:call-template name="bytes">
        <xsl:with-param name="n" select="bytes_in"/></xsl:call-template></div>
    </td>
    <td class="num">
      <xsl:call-template name="bits"><xsl:with-param name="n" select="bw_out"/></xsl:call-template>
      <div class="sub"><xsl:call-template name="bytes">
        <xsl:with-param name="n" select="bytes_out"/></xsl:call-template></div>
    </td>
    <td class="num"><xsl:value-of select="nclients"/></td>
    <td>
      <xsl:choose>
        <xsl:when test="publishing and active"><span class="badge live">live</span></xsl:when>
        <xsl:when test="publishing"><span class="badge pub">publishing</span></xsl:when>
        <xsl:otherwise><span class="badge">no publisher</span></xsl:otherwise>
      </xsl:choose>
    </td>
    <td class="num">
      <xsl:call-template name="duration">
        <xsl:with-param name="secs" select="floor(time div 1000)"/>
      </xsl:call-template>
    </td>
  </tr>
  <tr class="clients">
    <td colspan="8">
      <xsl:if test="client">
        <table class="clients">
          <thead>
            <tr>
              <th class="num">Id</th>
              <th>Role</th>
              <th>Address</th>
              <th>Flash version</th>
              <th class="num">Connected</th>
              <th class="num">Dropped</th>
              <th class="num">A-V sync</th>
            </tr>
          </thead>
          <tbody>
            <xsl:apply-templates select="client"/>
          </tbody>
        </table>
      </xsl:if>
    </td>
  </tr>
</xsl:template>

<xsl:template match="client">
  <tr>
    <td class="num"><xsl:value-of select="id"/></td>
    <td>
      <xsl:choose>
        <xsl:when test="publishing"><span class="badge pub">publishing</span></xsl:when>
        <xsl:when test="active"><span class="badge play">playing</span></xsl:when>
        <xsl:otherwise><span class="badge">waiting</span></xsl:otherwise>
      </xsl:choose>
    </td>
    <td class="addr"><xsl:value-of select="address"/></td>
    <td class="ver"><xsl:value-of select="flashver"/></td>
    <td class="num">
      <xsl:call-template name="duration">
        <xsl:with-param name="secs" select="floor(time div 1000)"/>
      </xsl:call-template>
    </td>
    <td class="num">
      <xsl:if test="dropped &gt; 0"><xsl:attribute name="class">num bad</xsl:attribute></xsl:if>
      <xsl:value-of select="dropped"/>
    </td>
    <td class="num">
      <xsl:if test="avsync != ''"><xsl:value-of select="avsync"/> ms</xsl:if>
    </td>
  </tr>
</xsl:template>

<!-- ============================================================ units -->

<!-- bits/s as b/s, kb/s, Mb/s or Gb/s (decimal prefixes, as network rates are given) -->
<xsl:template name="bits">
  <xsl:param name="n" select="0"/>
  <xsl:choose>
    <xsl:when test="not($n &gt;= 0)">–</xsl:when>
    <xsl:when test="$n &gt;= 1000000000">
      <xsl:value-of select="format-number($n div 1000000000, '0.00')"/> Gb/s</xsl:when>
    <xsl:when test="$n &gt;= 1000000">
      <xsl:value-of select="format-number($n div 1000000, '0.00')"/> Mb/s</xsl:when>
    <xsl:when test="$n &gt;= 1000">
      <xsl:value-of select="format-number($n div 1000, '0')"/> kb/s</xsl:when>
    <xsl:otherwise><xsl:value-of select="$n"/> b/s</xsl:otherwise>
  </xsl:choose>
</xsl:template>

<!-- bytes as B, kB, MB, GB or TB -->
<xsl:template name="bytes">
  <xsl:param name="n" select="0"/>
  <xsl:choose>
    <xsl:when test="not($n &gt;= 0)">–</xsl:when>
    <xsl:when test="$n &gt;= 1000000000000">
      <xsl:value-of select="format-number($n div 1000000000000, '0.00')"/> TB</xsl:when>
    <xsl:when test="$n &gt;= 1000000000">
      <xsl:value-of select="format-number($n div 1000000000, '0.00')"/> GB</xsl:when>
    <xsl:when test="$n &gt;= 1000000">
      <xsl:value-of select="format-number($n div 1000000, '0.0')"/> MB</xsl:when>
    <xsl:when test="$n &gt;= 1000">
      <xsl:value-of select="format-number($n div 1000, '0')"/> kB</xsl:when>
    <xsl:otherwise><xsl:value-of select="$n"/> B</xsl:otherwise>
  </xsl:choose>
</xsl:template>

<!-- seconds as 45s, 3m 07s, 1h 02m 03s or 2d 04h 05m 06s -->
<xsl:template name="duration">
  <xsl:param name="secs" select="0"/>
  <xsl:variable name="t" select="floor($secs)"/>
  <xsl:variable name="d" select="floor($t div 86400)"/>
  <xsl:variable name="h" select="floor(($t mod 86400) div 3600)"/>
  <xsl:variable name="m" select="floor(($t mod 3600) div 60)"/>
  <xsl:variable name="s" select="$t mod 60"/>
  <xsl:choose>
    <xsl:when test="not($t &gt;= 0)">–</xsl:when>
    <xsl:when test="$d &gt; 0">
      <xsl:value-of select="concat($d, 'd ', format-number($h, '00'), 'h ',
                                   format-number($m, '00'), 'm ', format-number($s, '00'), 's')"/>
    </xsl:when>
    <xsl:when test="$h &gt; 0">
      <xsl:value-of select="concat($h, 'h ', format-number($m, '00'), 'm ',
                                   format-number($s, '00'), 's')"/>
    </xsl:when>
    <xsl:when test="$m &gt; 0">
      <xsl:value-of select="concat($m, 'm ', format-number($s, '00'), 's')"/>
    </xsl:when>
    <xsl:otherwise><xsl:value-of select="concat($s, 's')"/></xsl:otherwise>
  </xsl:choose>
</xsl:template>

</xsl:stylesheet>
