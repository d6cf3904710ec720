import { describe, expect, test } from 'vitest';
import { MappingTemplateError } from './mapping-template-error.ts';
import { type MappingInput, renderMappingTemplate } from './vtl.ts';

function mappingInput(overrides: Partial<MappingInput> = {}): MappingInput {
  return {
    body: '',
    params: { path: {}, querystring: {}, header: {} },
    context: {},
    stageVariables: {},
    ...overrides,
  };
}

const render = (template: string, overrides?: Partial<MappingInput>): string =>
  renderMappingTemplate(template, mappingInput(overrides)).output;

const withQuery = (querystring: Record<string, string>, body = ''): Partial<MappingInput> => ({
  body,
  params: { path: {}, querystring, header: {} },
});

describe('$input', () => {
  test('reads the body {"name":"value"} raw, as JSON and as a VTL object', () => {
    const template =
      "$input.body|$input.json('$')|$input.json('$.name')|$input.path('$')|$input.path('$.name')";
    expect(render(template, { body: '{"name": "value"}' })).toBe(
      '{"name": "value"}|{"name":"value"}|"value"|{name=value}|value',
    );
  });

  test('reads an empty request body as {}', () => {
    expect(render("$input.body|$input.json('$')|$input.path('$').size()")).toBe('{}|{}|0');
  });

  test('passes a subsection of the request (documentation examples 3 and 4)', () => {
    const request = withQuery(
      { name: 'Bella', type: 'dog' },
      '{\n    "Price" : "249.99",\n    "Age": "6"\n}',
    );
    const whole = render(
      '{\n    "name" : "$input.params(\'name\')",\n    "body" : $input.json(\'$\')\n}',
      request,
    );
    expect(whole).toBe('{\n    "name" : "Bella",\n    "body" : {"Price":"249.99","Age":"6"}\n}');
    const age = render(
      '{\n    "name" : "$input.params(\'name\')",\n    "body" : $input.json(\'$.Age\')\n}',
      request,
    );
    expect(JSON.parse(age)).toEqual({ name: 'Bella', body: '6' });
    const escaped = render(
      '{\n    "name" : "$input.params(\'name\')",\n    "body" : "$util.escapeJavaScript($input.json(\'$.Age\'))"\n}',
      request,
    );
    expect(escaped).toContain('"body" : "\\"6\\""');
    expect(JSON.parse(escaped)).toEqual({ name: 'Bella', body: '"6"' });
  });

  test('counts and serialises "things" (documentation example 5)', () => {
    const request: Partial<MappingInput> = {
      body: '{\n      "things": {\n            "1": {},\n            "2": {},\n            "3": {}\n      }\n}',
      params: { path: { id: '123' }, querystring: {}, header: {} },
    };
    const plain = render(
      '{"id":"$input.params(\'id\')","count":"$input.path(\'$.things\').size()","things":$input.json(\'$.things\')}',
      request,
    );
    expect(plain).toBe('{"id":"123","count":"3","things":{"1":{},"2":{},"3":{}}}');
    const escaped = render(
      '{"id":"$input.params(\'id\')","count":"$input.path(\'$.things\').size()","things":"$util.escapeJavaScript($input.json(\'$.things\'))"}',
      request,
    );
    expect(escaped).toBe('{"id":"123","count":"3","things":"{\\"1\\":{},\\"2\\":{},\\"3\\":{}}"}');
  });

  test('a missing path: $input.json gives "" and $input.path prints nothing', () => {
    const template =
      "[$input.json('$.missing')][$input.path('$.missing')]#if($input.path('$.missing') == \"\") empty#end";
    expect(render(template, { body: '{"a":1}' })).toBe('[""][] empty');
  });

  test('a JSON null: $input.json gives null, $input.path is a Velocity null', () => {
    const template =
      "$input.json('$.n')|$input.path('$.n')|$!input.path('$.n')|#if(!$input.path('$.n'))falsy#end";
    expect(render(template, { body: '{"n":null}' })).toBe("null|$input.path('$.n')||falsy");
  });

  test('$input.path gives objects usable in VTL', () => {
    const body = '{"items":[{"id":1,"name":"a"},{"id":2,"name":"b"}],"a":{"b":{"c":"deep"}}}';
    const template =
      "$input.path('$').items.size() #foreach($i in $input.path('$.items'))$foreach.index:$i.name#if($foreach.hasNext),#end#end $input.path('$.a.b').c $input.path('$.items')[1].id";
    expect(render(template, { body })).toBe('2 0:a,1:b deep 2');
  });

  test('prints objects Java-style, JSON lists as JSON and whole numbers without .0', () => {
    const body = '{"o":{"s":"x","n":3,"w":10.0,"f":2.5,"l":[1,"two"],"m":{"k":true}},"l":["a",{"b":1}]}';
    const template =
      "$input.path('$.o')|$input.path('$.l')|$input.path('$.o.n')|$input.path('$.o.w')|$input.path('$.o.f')";
    expect(render(template, { body })).toBe(
      '{s=x, n=3, w=10, f=2.5, l=[1,"two"], m={k=true}}|["a",{"b":1}]|3|10|2.5',
    );
  });

  test('a JSONPath that can match many gives a list', () => {
    const body = '{"items":[{"id":1},{"id":2}]}';
    expect(render("$input.json('$.items[*].id')|$input.path('$..id').size()", { body })).toBe('[1,2]|2');
  });

  test('a payload that is not JSON fails only when read as JSON', () => {
    expect(render('$input.body', { body: 'a=b&c=d' })).toBe('a=b&c=d');
    expect(() => render("$input.json('$')", { body: 'a=b&c=d' })).toThrow(MappingTemplateError);
  });

  test('an invalid JSONPath is a template error', () => {
    const body = '{"items":[{"x":1}]}';
    expect(() => render("$input.json('$.items[?(@.x ==)]')", { body })).toThrow(MappingTemplateError);
  });
});

describe('$input.params', () => {
  test('searches path, then query string, then headers (case-insensitively); missing is empty', () => {
    const params = {
      path: { id: 'from-path' },
      querystring: { id: 'from-query', q: 'query' },
      header: { id: 'from-header', 'X-Trace-Id': 'trace' },
    };
    const template =
      "$input.params('id')|$input.params('q')|$input.params('x-trace-id')|[$input.params('nope')]";
    expect(render(template, { params })).toBe('from-path|query|trace|[]');
  });

  test('passes every parameter through the documented all-parameters template', () => {
    const template = `#set($allParams = $input.params())
{
  "params" : {
    #foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
    "$type" : {
      #foreach($paramName in $params.keySet())
      "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
      #if($foreach.hasNext),#end
      #end
    }
    #if($foreach.hasNext),#end
    #end
  }
}`;
    const params = {
      path: { example2: 'myparamm' },
      querystring: { querystring1: 'value1,value2' },
      header: { header1: 'value1', quoted: 'say "é"' },
    };
    expect(JSON.parse(render(template, { params }))).toEqual({ params });
  });
});

describe('$util', () => {
  test('escapeJavaScript escapes as Commons Lang StringEscapeUtils.escapeJavaScript', () => {
    const text = `He said "it's" a\\b/c\b\f\n\r\t\u0001\u001f é€😀\u007f~`;
    const expected = `He said \\"it\\'s\\" a\\\\b\\/c\\b\\f\\n\\r\\t\\u0001\\u001F \\u00E9\\u20AC\\uD83D\\uDE00\u007f~`;
    expect(render("$util.escapeJavaScript($input.params('s'))", withQuery({ s: text }))).toBe(expected);
  });

  test('escapeJavaScript(…).replaceAll("\\\\\'", "\'") turns \\\' back into \' for JSON', () => {
    const template = `$util.escapeJavaScript($input.params('s')).replaceAll("\\\\'", "'")`;
    expect(render(template, withQuery({ s: "it's" }))).toBe("it's");
  });

  test('urlEncode is Java form encoding and urlDecode its inverse', () => {
    const text = "a b*-._~!'()&=+é😀";
    const encoded = 'a+b*-._%7E%21%27%28%29%26%3D%2B%C3%A9%F0%9F%98%80';
    expect(render("$util.urlEncode($input.params('s'))", withQuery({ s: text }))).toBe(encoded);
    expect(render("$util.urlDecode($input.params('s'))", withQuery({ s: encoded }))).toBe(text);
  });

  test('base64Encode and base64Decode use UTF-8', () => {
    expect(render('$util.base64Encode("Hello, World!")')).toBe('SGVsbG8sIFdvcmxkIQ==');
    expect(
      render("$util.base64Decode($util.base64Encode($input.params('s')))", withQuery({ s: 'héllo 😀' })),
    ).toBe('héllo 😀');
  });

  test('parseJson gives an object usable in VTL (documentation example)', () => {
    const body = JSON.stringify({ errorMessage: JSON.stringify({ key1: 'var1', key2: { arr: [1, 2, 3] } }) });
    const template = `#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))
{
   "errorMessageObjKey2ArrVal" : $errorMessageObj.key2.arr[0]
}`;
    expect(JSON.parse(render(template, { body }))).toEqual({ errorMessageObjKey2ArrVal: 1 });
  });

  test('a null argument gives null, which prints as the reference', () => {
    expect(render('$util.urlEncode($nothing)|$!util.urlEncode($nothing)')).toBe('$util.urlEncode($nothing)|');
  });
});

describe('Velocity 1.7 semantics', () => {
  test('an undefined reference prints itself; a quiet one prints nothing', () => {
    expect(render('$foo|$!foo|${foo}|$!{foo}')).toBe('$foo||${foo}|');
  });

  test('a null from a method prints the reference unless quiet', () => {
    expect(render('#set($m = {})$m.get("k")|$!m.get("k")')).toBe('$m.get("k")|');
  });

  test('#if treats only null and false as false: "" and 0 are true', () => {
    const template =
      '#if("")a#end#if(0)b#end#if(false)c#end#if($nothing)d#end#if(!$nothing)e#end#if($input.params(\'missing\'))f#end';
    expect(render(template)).toBe('abef');
  });

  test('#if/#elseif/#else, ==, != and && / || with Velocity truth', () => {
    const template =
      '#set($x = "b")#if($x == "a")A#elseif($x == "b")B#else-C#end|#if($x != "a")ne#end|#if(1 == "1")eq#end|#if($nothing == "")x#else-null#end|#if("" && 0)and#end|#if($nothing || "")or#end';
    expect(render(template)).toBe('B|ne|eq|-null|and|or');
  });

  test('#foreach, $foreach, #set and comments', () => {
    const template = `#set($list = ["a", "b", "c"])#foreach($i in $list)$foreach.count.$i#if($foreach.hasNext), #end#end ## trailing comment
#* block
comment *#done`;
    expect(render(template)).toBe('1.a, 2.b, 3.c done');
  });

  test('a VTL list prints Java-style, a JSON list as JSON', () => {
    expect(render('#set($l = [1, "a"])$l|$input.path(\'$.l\')', { body: '{"l":[1,"a"]}' })).toBe(
      '[1, a]|[1,"a"]',
    );
  });
});

describe('Java methods', () => {
  test.each([
    ['$s.length()', '11'],
    ['$s.isEmpty()', 'false'],
    ['$s.equals("Hello World")', 'true'],
    ['$s.contains("lo W")', 'true'],
    ['$s.startsWith("Hell")', 'true'],
    ['$s.endsWith("World")', 'true'],
    ['$s.toLowerCase()', 'hello world'],
    ['$s.toUpperCase()', 'HELLO WORLD'],
    ['$s.substring(6)', 'World'],
    ['$s.substring(0, 5)', 'Hello'],
    ['$s.indexOf("o")', '4'],
    ['$s.matches("H.*d")', 'true'],
    ['$s.matches("World")', 'false'],
    ['$s.matches("(?i)hello world")', 'true'],
    ['$s.replaceAll("(o)", "[$1]")', 'Hell[o] W[o]rld'],
    ["$s.replaceAll('l+', '\\$')", 'He$o Wor$d'],
    ['$s.replaceFirst("o", "0")', 'Hell0 World'],
    ["$s.replace('o', '$&')", 'Hell$& W$&rld'],
    ['$s.split(" ")', '[Hello, World]'],
    ['$s.split(" ").size()', '2'],
  ])('String %s', (expression, expected) => {
    expect(render(`#set($s = "Hello World")${expression}`)).toBe(expected);
  });

  test('trim strips control characters and spaces, as Java does', () => {
    expect(render("[$input.params('s').trim()]", withQuery({ s: ' \t padded \n' }))).toBe('[padded]');
  });

  test('replace is literal, replaceAll is a Java regex', () => {
    expect(
      render(
        "$input.params('s').replace('.', '!')|$input.params('s').replaceAll('\\.', '\\\\')",
        withQuery({ s: 'a.b.c' }),
      ),
    ).toBe('a!b!c|a\\b\\c');
  });

  test('List and Map methods', () => {
    const body = '{"m":{"a":1,"b":2},"l":["x","y"]}';
    const template =
      '#set($m = $input.path(\'$.m\'))#set($l = $input.path(\'$.l\'))$m.size() $m.isEmpty() $m.get("a") $m.containsKey("b") $m.containsKey("z") $m.keySet() $l.size() $l.get(1) $l.contains("x") $l.isEmpty()';
    expect(render(template, { body })).toBe('2 false 1 true false [a, b] 2 y true false');
  });

  test('a method wins over a JSON key of the same name', () => {
    expect(
      render("$input.path('$.m').size()|$input.path('$.m').size", { body: '{"m":{"size":"big"}}' }),
    ).toBe('1|big');
  });

  test('a method that Java would throw from is a template error', () => {
    expect(() => render('#set($s = "abc")$s.substring(5)')).toThrow(MappingTemplateError);
    expect(() => render('#set($s = "abc")$s.matches("(")')).toThrow(MappingTemplateError);
    expect(() => render("$input.path('$.l').get(2)", { body: '{"l":[1]}' })).toThrow(MappingTemplateError);
  });

  test('no global prototype is patched', () => {
    render('#set($s = "abc")$s.matches("a.c")$s.length()');
    expect(Object.hasOwn(String.prototype, 'matches')).toBe(false);
    expect(Object.hasOwn(Array.prototype, 'size')).toBe(false);
    expect(Object.hasOwn(Object.prototype, 'containsKey')).toBe(false);
  });
});

describe('AWS documentation examples', () => {
  test('PetStore: the response template over a list of pets', () => {
    const body = JSON.stringify([
      { id: 1, type: 'dog', price: 249.99 },
      { id: 2, type: 'cat', price: 124.99 },
      { id: 3, type: 'fish', price: 0.99 },
    ]);
    const template = `#set($inputRoot = $input.path('$'))
[
#foreach($elem in $inputRoot)
  {
    "description" : "Item $elem.id is a $elem.type.",
    "askingPrice" : $elem.price
  }#if($foreach.hasNext),#end

#end
]`;
    expect(JSON.parse(render(template, { body }))).toEqual([
      { description: 'Item 1 is a dog.', askingPrice: 249.99 },
      { description: 'Item 2 is a cat.', askingPrice: 124.99 },
      { description: 'Item 3 is a fish.', askingPrice: 0.99 },
    ]);
  });

  test('photo album: nested lists and booleans', () => {
    const photo = (id: string, first: string, last: string, title: string) => ({
      id,
      owner: 'o',
      photographer_first_name: first,
      photographer_last_name: last,
      title,
      ispublic: true,
      isfriend: false,
      isfamily: false,
    });
    const body = JSON.stringify({
      photos: {
        page: 1,
        pages: '1234',
        photo: [
          photo('12345678901', 'Saanvi', 'Sarkar', 'Sample photo 1'),
          photo('23456789012', 'Richard', 'Roe', 'Sample photo 2'),
        ],
      },
    });
    const template = `#set($inputRoot = $input.path('$'))
{
  "photos": [
#foreach($elem in $inputRoot.photos.photo)
    {
      "id": "$elem.id",
      "photographedBy": "$elem.photographer_first_name $elem.photographer_last_name",
      "title": "$elem.title",
      "ispublic": $elem.ispublic,
      "isfriend": $elem.isfriend,
      "isfamily": $elem.isfamily
    }#if($foreach.hasNext),#end

#end
  ]
}`;
    const flags = { ispublic: true, isfriend: false, isfamily: false };
    expect(JSON.parse(render(template, { body }))).toEqual({
      photos: [
        { id: '12345678901', photographedBy: 'Saanvi Sarkar', title: 'Sample photo 1', ...flags },
        { id: '23456789012', photographedBy: 'Richard Roe', title: 'Sample photo 2', ...flags },
      ],
    });
  });

  test('$context variables mapped into the integration request', () => {
    const context = {
      stage: 'prod',
      requestId: 'abcdefg-000-000-0000-abcdefg',
      apiId: 'abcd1234',
      resourcePath: '/',
      httpMethod: 'GET',
      identity: { sourceIp: '192.0.2.1', userAgent: 'curl/7.84.0', apiKeyId: 'key-id' },
    };
    const template = `{
    "stage" : "$context.stage",
    "request_id" : "$context.requestId",
    "api_id" : "$context.apiId",
    "resource_path" : "$context.resourcePath",
    "http_method" : "$context.httpMethod",
    "source_ip" : "$context.identity.sourceIp",
    "user-agent" : "$context.identity.userAgent",
    "api_key_id" : "$context.identity.apiKeyId"
}`;
    expect(JSON.parse(render(template, { context }))).toEqual({
      stage: 'prod',
      request_id: 'abcdefg-000-000-0000-abcdefg',
      api_id: 'abcd1234',
      resource_path: '/',
      http_method: 'GET',
      source_ip: '192.0.2.1',
      'user-agent': 'curl/7.84.0',
      api_key_id: 'key-id',
    });
  });

  test('overriding the response status when the body holds an error', () => {
    const template = `#set($inputRoot = $input.path('$'))
$input.json("$")
#if($inputRoot.toString().contains("error"))
#set($context.responseOverride.status = 400)
#end`;
    const failed = JSON.stringify({
      errors: [{ key: 'GetPetRequest.petId', message: 'The value is out of range.' }],
    });
    const error = renderMappingTemplate(template, mappingInput({ body: failed }));
    expect(JSON.parse(error.output)).toEqual(JSON.parse(failed));
    expect(error.responseOverride).toEqual({ status: 400, headers: {} });
    const pet = renderMappingTemplate(template, mappingInput({ body: '{"id":1,"type":"dog"}' }));
    expect(pet.responseOverride).toEqual({ headers: {} });
  });
});

describe('integration templates fed hostile input', () => {
  const sqsTemplate = "Action=SendMessage&MessageBody=$util.urlEncode($input.json('$'))";

  test.each([
    ['quotes', { text: 'say "hi" and \'bye\'' }],
    ['backslashes', { path: 'C:\\temp\\new', tail: '\\' }],
    ['JSON breakers', { text: '"}, "admin": true, "x": {"', list: ['"]', '}'] }],
    ['unicode', { name: 'café 😀 日本', clé: 'é' }],
    ['newlines', { text: 'line1\nline2\r\n\ttab\u0000' }],
    ['form smuggling', { text: 'x&Action=DeleteQueue&QueueUrl=q', 'a=b': '+%20;' }],
  ])('SQS SendMessage form body with %s', (_name, message) => {
    const output = render(sqsTemplate, { body: JSON.stringify(message, null, 2) });
    const form = new URLSearchParams(output);
    expect([...form.keys()]).toEqual(['Action', 'MessageBody']);
    expect(form.getAll('Action')).toEqual(['SendMessage']);
    expect(JSON.parse(form.get('MessageBody') ?? '')).toEqual(message);
  });

  const getItemTemplate =
    '{"TableName":"t","Key":{"orderId":{"S":"$util.escapeJavaScript($input.params(\'id\')).replaceAll("\\\\\'", "\'")"}}}';

  test.each([
    ['a quote', 'a"b'],
    ['a backslash', 'back\\slash\\'],
    ['an apostrophe', "it's"],
    ['an escaped apostrophe', "\\'"],
    ['a key breaker', '"}}, "Other": {"S": "x'],
    ['unicode', 'é😀日本'],
    ['newlines', 'line\nbreak\r\n'],
    ['a script tag', '</script>'],
  ])('DynamoDB GetItem key with %s', (_name, id) => {
    const output = render(getItemTemplate, { params: { path: { id }, querystring: {}, header: {} } });
    expect(JSON.parse(output)).toEqual({ TableName: 't', Key: { orderId: { S: id } } });
  });

  const linesTemplate = `#set($item = $input.path('$.Item'))
{
  "orderId": "$util.escapeJavaScript($item.orderId.S).replaceAll("\\\\'", "'")",
  "lines": [
#foreach($line in $item.lines.L)
    {"sku": "$util.escapeJavaScript($line.M.sku.S).replaceAll("\\\\'", "'")", "qty": $line.M.qty.N}#if($foreach.hasNext),#end

#end
  ]
}`;

  test.each([
    [
      'two lines',
      [
        { sku: 'a"1\'', qty: 2 },
        { sku: 'b', qty: 10 },
      ],
    ],
    ['no lines', []],
  ])('DynamoDB response: a list of maps rendered as JSON (%s)', (_name, lines) => {
    const item = {
      orderId: { S: 'o-1' },
      lines: { L: lines.map(({ sku, qty }) => ({ M: { sku: { S: sku }, qty: { N: String(qty) } } })) },
    };
    const output = render(linesTemplate, { body: JSON.stringify({ Item: item }) });
    expect(JSON.parse(output)).toEqual({ orderId: 'o-1', lines });
  });
});

describe('$context, $stageVariables and responseOverride', () => {
  test('status and headers set with #set come back, the status as a number', () => {
    const template = `#set($context.responseOverride.status = "201")
#set($context.responseOverride.header.Location = "/orders/$input.params('id')")
#set($context.responseOverride.header.X-Request-Id = $context.requestId)
created`;
    const result = renderMappingTemplate(
      template,
      mappingInput({
        params: { path: { id: '42' }, querystring: {}, header: {} },
        context: { requestId: 'r-1' },
      }),
    );
    expect(result).toEqual({
      output: 'created',
      responseOverride: { status: 201, headers: { Location: '/orders/42', 'X-Request-Id': 'r-1' } },
    });
  });

  test('a status that is not an HTTP status code is a template error', () => {
    expect(() => render('#set($context.responseOverride.status = "soon")')).toThrow(MappingTemplateError);
  });

  test('reads $context and $stageVariables; #set on $context does not reach the caller', () => {
    const context = { stage: 'dev', requestTimeEpoch: 1700000000000, identity: { apiKeyId: 'k-1' } };
    const template =
      "$context.stage $context.requestTimeEpoch $context.identity.apiKeyId $stageVariables.table ${stageVariables['table']}#set($context.stage = 'changed')";
    expect(render(template, { context, stageVariables: { table: 'orders' } })).toBe(
      'dev 1700000000000 k-1 orders orders',
    );
    expect(context.stage).toBe('dev');
  });
});

describe('template errors and compilation', () => {
  test.each(['#if($a', '#foreach($i in)#end', '#set($a = )'])(
    'a syntax error is a MappingTemplateError: %s',
    (template) => {
      expect(() => render(template)).toThrow(MappingTemplateError);
    },
  );

  test('a compiled template renders afresh for each input', () => {
    const template = 'before#if($input.params(\'halt\') == "yes")#stop()#end after';
    expect(render(template, withQuery({ halt: 'yes' }))).toBe('before');
    expect(render(template, withQuery({ halt: 'no' }))).toBe('before after');
  });
});
