import { describe, expect, it } from 'vitest';
import { htmlText, readHtml } from './page-text.ts';

describe('readHtml', () => {
  it('reads the title and the visible text, whitespace collapsed, blocks kept apart', () => {
    const page = readHtml(
      `<html><head><title>  Status
      of things </title><style>p { color: red }</style><script>var secret = 1;</script></head>
      <body><h1>Incidents</h1><p>API   is
      <b>degraded</b>.</p><p>Since 10:00</p><ul><li>one</li><li>two</li></ul>
      <noscript>enable JS</noscript><template><p>later</p></template><div hidden>hidden text</div>
      <span style="display: none">invisible</span><p aria-hidden="true">decoration</p>
      <table><tr><td>a</td><td>b</td></tr></table>x<br>y</body></html>`,
      'https://status.example.com/',
    );
    expect(page.title).toBe('Status of things');
    expect(page.text).toBe('Incidents API is degraded. Since 10:00 one two a b x y');
  });

  it('resolves links against the page, or its <base>, keeping http(s) only, each once, without fragments', () => {
    const page = readHtml(
      `<body>
        <a href="/docs/a">root-relative</a>
        <a href="b?x=1#part">relative</a>
        <a href="../up">parent</a>
        <a href="//cdn.example.org/c">protocol-relative</a>
        <a href="https://other.example.net/d">absolute</a>
        <a href="/docs/a#again">same page again</a>
        <a href="mailto:ops@example.com">mail</a><a href="javascript:void(0)">js</a><a href="  ">blank</a><a>no href</a>
        <map><area href="/area"></map>
      </body>`,
      'https://example.com/guide/intro.html',
    );
    expect(page.links).toEqual([
      'https://example.com/docs/a',
      'https://example.com/guide/b?x=1',
      'https://example.com/up',
      'https://cdn.example.org/c',
      'https://other.example.net/d',
      'https://example.com/area',
    ]);
    const based = readHtml('<head><base href="/v2/"></head><body><a href="page">p</a></body>', 'https://example.com/guide/intro.html');
    expect(based.links).toEqual(['https://example.com/v2/page']);
  });

  it('caps the text, without splitting a character in two', () => {
    expect(htmlText(`<p>${'a'.repeat(50)}</p><p>${'b'.repeat(50)}</p>`, 60)).toBe(`${'a'.repeat(50)} ${'b'.repeat(9)}`);
    expect(htmlText(`<p>${'a'.repeat(9)}😀tail</p>`, 10)).toBe('a'.repeat(9));
  });

  it('reads a document without a body (XML, a fragment) from its root', () => {
    expect(htmlText('just <em>text</em>')).toBe('just text');
  });
});
