"""Velocity 1.7 as API Gateway runs it: one test per construct, asserting the exact output."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcloud.rules.vtl import VtlError, apigateway_variables, render


def gateway(
    body: str = "",
    *,
    path: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    context: dict[str, Any] | None = None,
    stage: dict[str, str] | None = None,
) -> dict[str, Any]:
    return apigateway_variables(
        body=body,
        path_parameters=path or {},
        query_parameters=query or {},
        headers=headers or {},
        context=context or {},
        stage_variables=stage or {},
    )


# -- references -----------------------------------------------------------------------------


def test_plain_and_braced_references_render_their_values():
    assert render("$name, ${name}s", {"name": "pet"}) == "pet, pets"


def test_an_undefined_reference_renders_as_its_source_text():
    assert render("[$missing] [${missing}] [$pet.missing]", {"pet": {}}) == (
        "[$missing] [${missing}] [$pet.missing]"
    )


def test_a_quiet_reference_renders_nothing_when_undefined():
    assert render("[$!missing] [$!{missing}] [$!name]", {"name": "x"}) == "[] [] [x]"


def test_quiet_nulls_renders_every_null_reference_as_empty():
    template = "[$missing] [$m.get('x')] [$m.put('k', 1)] [\\$missing]"
    assert render(template, {"m": {}}, quiet_nulls=True) == "[] [] [] [\\$missing]"


def test_a_property_of_a_map_is_a_key_lookup():
    assert render("$pet.owner.name", {"pet": {"owner": {"name": "Ann"}}}) == "Ann"


def test_a_property_of_an_object_is_its_attribute_or_getter():
    class Pet:
        kind = "cat"

        def getName(self):  # noqa: N802 - a Java-style getter
            return "Tom"

    assert render("$pet.kind $pet.name", {"pet": Pet()}) == "cat Tom"


def test_method_calls_take_arguments():
    variables = gateway('{"pet": {"name": "Tom"}}')
    assert render("$input.json('$.pet.name')", variables) == '"Tom"'


def test_index_notation_reads_lists_and_maps():
    variables = {"items": ["a", "b"], "tags": {"k": "v"}, "i": 1}
    assert render("$items[0] $items[$i] $tags[\"k\"] $tags['k']", variables) == "a b v v"


def test_an_index_past_the_end_is_an_error_that_says_where():
    with pytest.raises(VtlError, match=r"line 2, column 7: index 5 out of bounds for length 1"):
        render("ok\n$items[5]", {"items": ["a"]})


def test_a_name_may_hold_hyphens_as_in_velocity_1_7():
    assert render("$x-y|$!x-z", {"x-y": "hyphenated", "x": "x"}) == "hyphenated|"


def test_a_trailing_dot_after_a_reference_is_text():
    assert render("$name.", {"name": "end"}) == "end."


# -- directives -----------------------------------------------------------------------------


def test_set_assigns_and_a_later_reference_sees_it():
    assert render("#set($a = 'x')$a", {}) == "x"


def test_set_of_a_null_value_leaves_the_variable_unchanged():
    template = "#set($a = 'kept')#set($a = $map.get('nothing'))$a"
    assert render(template, {"map": {}}) == "kept"


def test_set_assigns_a_property_of_a_map():
    variables = gateway(context={"requestId": "r1"})
    template = "#set($context.responseOverride.status = 404)"
    assert render(template, variables) == ""
    assert variables["context"]["responseOverride"]["status"] == 404


def test_if_elseif_else_picks_the_first_true_branch():
    template = "#if($n > 2)big#elseif($n == 2)two#{else}small#end"
    assert [render(template, {"n": n}) for n in (3, 2, 1)] == ["big", "two", "small"]


def test_if_treats_null_and_false_as_false_and_everything_else_as_true():
    template = "#if($v)T#{else}F#end"
    values = [None, False, True, "", 0, []]
    assert [render(template, {"v": v}) for v in values] == ["F", "F", "T", "T", "T", "T"]


def test_foreach_exposes_the_loop_state():
    template = (
        "#foreach($x in ['a', 'b', 'c'])"
        "$foreach.index/$foreach.count/$velocityCount:$x#if($foreach.hasNext),#end"
        "#end"
    )
    assert render(template, {}) == "0/1/1:a,1/2/2:b,2/3/3:c"


def test_foreach_over_a_map_iterates_its_values():
    assert render("#foreach($v in $m)$v#end", {"m": {"a": 1, "b": 2}}) == "12"


def test_foreach_over_null_does_nothing():
    assert render("[#foreach($v in $missing)$v#end]", {}) == "[]"


def test_foreach_restores_the_loop_variable_afterwards():
    assert render("#foreach($x in [1, 2])#end$x", {"x": "outer"}) == "outer"


def test_nested_foreach_sees_its_own_state_and_the_parent():
    template = "#foreach($a in [1, 2])#foreach($b in [1])$foreach.parent.count$b#end#end"
    assert render(template, {}) == "1121"


def test_break_leaves_the_loop_and_rendering_goes_on_after_it():
    assert render("#foreach($i in [1..5])#if($i == 3)#break#end$i#end after", {}) == "12 after"


def test_stop_ends_the_output():
    assert render("before#stop after", {}) == "before"


def test_line_and_block_comments_render_nothing():
    assert render("a## to the end of the line\nb#* a\nblock *#c", {}) == "abc"


def test_escaped_references_and_directives_render_literally():
    variables = {"a": 1}
    assert render(r"\$a \\$a \$undefined \#if \#end", variables) == r"$a \1 \$undefined #if #end"


def test_an_unparsed_block_is_copied_as_is():
    assert render("#[[ $a #if($b) ]]#", {"a": 1}) == " $a #if($b) "


def test_bracketed_directives_can_touch_text():
    assert render("#if($a)yes#{else}no#{end}more", {"a": False}) == "nomore"


def test_define_renders_its_block_where_it_is_referenced():
    template = "#define($greeting)hi $name#end#set($name = 'Ann')$greeting"
    assert render(template, {}) == "hi Ann"


def test_a_macro_renders_its_body_with_its_arguments():
    template = "#macro(pair $k $v)\"$k\": \"$v\"#end{#pair('a' 1), #pair('b', 2)}"
    assert render(template, {}) == '{"a": "1", "b": "2"}'


def test_a_hash_that_is_not_a_directive_is_text():
    assert render("color: #ff0000; #tag", {}) == "color: #ff0000; #tag"


# -- literals and operators -----------------------------------------------------------------


def test_single_quoted_strings_are_not_interpolated_and_double_quoted_are():
    assert render("#set($a = '$name')#set($b = \"$name!\")$a $b", {"name": "x"}) == "$name x!"


def test_a_double_quoted_string_can_hold_directives():
    assert render('#set($a = "#if($on)yes#{else}no#end")$a', {"on": False}) == "no"


def test_a_doubled_quote_inside_a_string_is_one_quote():
    assert render("#set($a = 'it''s')$a", {}) == "it's"


def test_numbers_booleans_and_null_literals():
    template = "#set($i = 42)#set($f = 1.5)#set($t = true)#set($n = 'x')#set($n = null)$i $f $t $n"
    assert render(template, {}) == "42 1.5 true x"


def test_list_range_and_map_literals_render_as_java_collections():
    template = "#set($l = [1, 'a'])#set($r = [3..1])#set($m = {'a': 1, \"b\": [true]})$l $r $m"
    assert render(template, {}) == "[1, a] [3, 2, 1] {a=1, b=[true]}"


def test_comparison_operators_and_their_word_forms():
    template = (
        "#if(1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3 && 1 == 1 && 1 != 2)a#end"
        "#if(1 lt 2 and 2 le 2 and 3 gt 2 and 3 ge 3 and 1 eq 1 and 1 ne 2)b#end"
    )
    assert render(template, {}) == "ab"


def test_logical_operators_and_their_word_forms():
    template = "#if(!false || false)a#end#if(not false or false)b#end#if(true && !true)c#end"
    assert render(template, {}) == "ab"


def test_arithmetic_follows_java_integer_rules():
    template = "#set($a = 7 / 2)#set($b = -7 / 2)#set($c = -7 % 2)#set($d = 2 + 3 * 4)$a $b $c $d"
    assert render(template, {}) == "3 -3 -1 14"


def test_arithmetic_with_a_float_gives_a_java_double():
    assert render("#set($a = 7 / 2.0)#set($b = 2 * 1.0)$a $b", {}) == "3.5 2.0"


def test_parentheses_group_before_precedence():
    assert render("#set($a = (2 + 3) * 4)$a", {}) == "20"


def test_plus_concatenates_when_either_side_is_a_string():
    assert render("#set($a = 'n=' + 5)#set($b = $a + '!')$b", {}) == "n=5!"


def test_equality_compares_values_of_different_types_as_strings():
    assert render("#if(1 == '1')same#end#if('a' == 'a')eq#end", {}) == "sameeq"


def test_division_by_zero_gives_null_so_set_keeps_the_old_value():
    assert render("#set($a = 1)#set($a = 1 / 0)$a", {}) == "1"


# -- Java methods on strings, lists and maps ------------------------------------------------


def test_string_methods():
    template = (
        "$s.length() $s.isEmpty() $s.substring(1, 3) $s.indexOf('l') $s.contains('ell') "
        "$s.startsWith('He') $s.endsWith('o') $s.toUpperCase() $s.toLowerCase() "
        "$s.replace('l', 'L') $s.equals('Hello') $s.charAt(1) $pad.trim()|"
    )
    assert render(template, {"s": "Hello", "pad": "  x  "}) == (
        "5 false el 2 true true true HELLO hello HeLLo true e x|"
    )


def test_replace_all_takes_a_java_regex_and_replacement():
    template = "$s.replaceAll('(\\w+)@(\\w+)', '$2 at $1') $q.replaceAll(\"\\\\'\", \"'\")"
    assert render(template, {"s": "ann@example", "q": "it\\'s"}) == "example at ann it's"


def test_split_drops_trailing_empty_strings_as_java_does():
    assert render("$s.split(',') $s.split(',').size()", {"s": "a,b,,"}) == "[a, b] 2"


def test_list_methods():
    template = (
        "#set($l = [1, 2])#set($added = $l.add(3))$l.size() $l.get(0) $l.contains(2) "
        "$l.isEmpty() $l.indexOf(3) $l.remove(0) $l"
    )
    assert render(template, {}) == "3 1 true false 2 1 [2, 3]"


def test_map_methods():
    template = (
        "#set($m = {'a': 1})#set($old = $m.put('b', 2))$m.size() $m.get('b') "
        "$m.containsKey('a') $m.keySet() $m.values() $m.isEmpty() "
        "#foreach($e in $m.entrySet())$e.key=$e.value;#end $m.remove('a') $m"
    )
    assert render(template, {}) == "2 2 true [a, b] [1, 2] false a=1;b=2; 1 {b=2}"


def test_a_method_returning_null_renders_as_its_source_text():
    assert render("$m.put('k', 1)", {"m": {}}) == "$m.put('k', 1)"


def test_an_unknown_method_renders_as_its_source_text():
    assert render("$s.noSuchMethod()", {"s": "x"}) == "$s.noSuchMethod()"


def test_to_string_on_numbers_and_booleans():
    assert render("$n.toString() $b.toString() $n.doubleValue()", {"n": 3, "b": True}) == (
        "3 true 3.0"
    )


# -- whitespace -----------------------------------------------------------------------------


def test_a_directive_followed_by_a_line_end_eats_that_line_end():
    template = "#set($a = 1)\n#if($a)\nyes\n#end\nafter"
    assert render(template, {}) == "yes\nafter"


def test_set_eats_the_blanks_before_it_but_other_directives_keep_their_indentation():
    template = "x\n    #set($a = 1)\n  #if($a)\n  in\n  #end\nout"
    assert render(template, {}) == "x\n    in\n  out"


def test_a_typical_json_template_with_foreach_and_if_renders_as_api_gateway_does():
    # GIVEN the shape of AWS's photos example: a blank line after "#if(...),#end" because
    # the #end eats its own line end
    template = (
        "#set($inputRoot = $input.path('$'))\n"
        "{\n"
        '  "photos": [\n'
        "#foreach($elem in $inputRoot.photos)\n"
        "    {\n"
        '      "id": "$elem.id",\n'
        '      "public": $elem.public\n'
        "    }#if($foreach.hasNext),#end\n"
        "\n"
        "#end\n"
        "  ]\n"
        "}"
    )
    body = '{"photos": [{"id": "p1", "public": true}, {"id": "p2", "public": false}]}'

    # WHEN it renders
    rendered = render(template, gateway(body))

    # THEN each element is on its own lines, comma-separated, and the JSON is valid
    assert rendered == (
        "{\n"
        '  "photos": [\n'
        "    {\n"
        '      "id": "p1",\n'
        '      "public": true\n'
        "    },\n"
        "    {\n"
        '      "id": "p2",\n'
        '      "public": false\n'
        "    }\n"
        "  ]\n"
        "}"
    )
    assert json.loads(rendered)["photos"][1] == {"id": "p2", "public": False}


def test_an_end_followed_by_text_on_its_line_keeps_the_line_end_of_that_text():
    template = "#foreach($i in [1, 2])\n  $i#if($foreach.hasNext),#end\n#end"
    assert render(template, {}) == "  1,  2"


# -- $input -----------------------------------------------------------------------------------


def test_input_body_is_the_raw_payload():
    assert render("$input.body", gateway('{"a": 1}')) == '{"a": 1}'


def test_input_body_of_an_empty_payload_is_an_empty_object():
    assert render("$input.body|$input.json('$')", gateway("")) == "{}|{}"


def test_input_json_returns_json_text_for_strings_numbers_objects_and_lists():
    variables = gateway('{"s": "x", "n": 1.5, "o": {"k": [1, "two"]}, "b": true, "z": null}')
    template = "$input.json('$.s') $input.json('$.n') $input.json('$.o') $input.json('$.b') "
    template += "$input.json('$.z') $input.json('$')"
    assert render(template, variables) == (
        '"x" 1.5 {"k":[1,"two"]} true null {"s":"x","n":1.5,"o":{"k":[1,"two"]},"b":true,"z":null}'
    )


def test_input_json_of_a_missing_path_is_an_empty_json_string():
    assert render("$input.json('$.missing.deeper')", gateway('{"a": 1}')) == '""'


def test_input_json_supports_bracket_index_and_wildcard_paths():
    variables = gateway('{"a": [{"b": 1}, {"b": 2}], "c d": "x"}')
    template = "$input.json(\"$['c d']\") $input.json('$.a[1].b') $input.json('$.a[*].b') "
    template += "$input.json('$..b') $input.json('$.a[-1]')"
    assert render(template, variables) == '"x" 2 [1,2] [1,2] {"b":2}'


def test_input_path_returns_a_value_the_template_can_use():
    variables = gateway('{"items": [{"id": "a"}, {"id": "b"}], "n": 2}')
    template = "$input.path('$.items').size() $input.path('$.items')[1].id $input.path('$.n')"
    assert render(template, variables) == "2 b 2"


def test_input_path_of_an_object_renders_as_a_java_map_with_json_arrays():
    variables = gateway('{"a": 1, "b": [{"c": 5}], "s": "t"}')
    assert render("$input.path('$')", variables) == '{a=1, b=[{"c":5}], s=t}'


def test_input_path_numbers_render_as_java_numbers():
    variables = gateway('{"i": 7, "f": 2.50, "big": 1.5e20, "small": 0.0001}')
    template = "$input.path('$.i') $input.path('$.f') $input.path('$.big') $input.path('$.small')"
    assert render(template, variables) == "7 2.5 1.5E20 1.0E-4"


def test_input_path_of_a_missing_value_is_null():
    assert render("$input.path('$.missing')|$!input.path('$.missing')", gateway("{}")) == (
        "$input.path('$.missing')|"
    )


def test_input_params_finds_a_name_in_path_then_query_string_then_header():
    variables = gateway(
        path={"id": "from-path"},
        query={"id": "from-query", "q": "query"},
        headers={"id": "from-header", "X-Trace": "header"},
    )
    template = (
        "$input.params('id') $input.params('q') $input.params('x-trace') [$input.params('no')]"
    )
    assert render(template, variables) == "from-path query header []"


def test_input_params_without_a_name_maps_path_querystring_and_header():
    variables = gateway(path={"id": "7"}, query={"q": "z"}, headers={"Accept": "*/*"})
    template = (
        "$input.params() "
        "#foreach($type in $input.params().keySet())$type:$input.params().get($type).size();#end"
    )
    assert render(template, variables) == (
        "{path={id=7}, querystring={q=z}, header={Accept=*/*}} path:1;querystring:1;header:1;"
    )


def test_a_payload_that_is_not_json_fails_where_it_is_read():
    with pytest.raises(VtlError, match=r"line 1, column 14: json\(\) failed: .*not valid JSON"):
        render("{\"a\": $input.json('$.a')}", gateway("not json"))


# -- $util, $context, $stageVariables -------------------------------------------------------


def test_util_escape_javascript_escapes_as_java_does():
    variables = {**gateway(), "s": 'it\'s "q" \\ / é\n\t\x01😀'}
    assert render("$util.escapeJavaScript($s)", variables) == (
        'it\\\'s \\"q\\" \\\\ \\/ \\u00E9\\n\\t\\u0001\\uD83D\\uDE00'
    )


def test_util_parse_json_returns_a_value_to_navigate():
    variables = {**gateway(), "text": '{"a": {"b": [1, 2]}}'}
    assert render("$util.parseJson($text).a.b.size()", variables) == "2"


def test_util_url_encode_and_decode_follow_java_url_encoder():
    variables = {**gateway(), "s": "a b&c=d*~é"}
    assert render("$util.urlEncode($s)", variables) == "a+b%26c%3Dd*%7E%C3%A9"
    assert render("$util.urlDecode('a+b%26c')", variables) == "a b&c"


def test_util_base64_encode_and_decode():
    assert render("$util.base64Encode('héllo') $util.base64Decode('aGk=')", gateway()) == (
        "aMOpbGxv hi"
    )


def test_context_and_stage_variables_are_as_given():
    variables = gateway(
        context={"requestId": "r-1", "identity": {"sourceIp": "192.0.2.1"}},
        stage={"table": "Pets"},
    )
    template = "$context.requestId $context.identity.sourceIp $stageVariables.table"
    assert render(template, variables) == "r-1 192.0.2.1 Pets"


def test_a_request_template_can_override_integration_headers():
    variables = gateway()
    render("#set($context.requestOverride.header.X-Trace = 'abc')", variables)
    assert variables["context"]["requestOverride"]["header"] == {"X-Trace": "abc"}


def test_rendering_does_not_change_the_callers_context():
    context = {"requestId": "r-1"}
    variables = gateway(context=context)
    render("#set($context.requestId = 'changed')", variables)
    assert context == {"requestId": "r-1"}
    assert variables["context"]["requestId"] == "changed"


# -- the templates a REST API uses ----------------------------------------------------------


def test_a_body_reshaped_into_an_sqs_send_message_form():
    template = (
        "Action=SendMessage"
        "&MessageBody=$util.urlEncode($input.body)"
        "&MessageAttribute.1.Name=requestId"
        "&MessageAttribute.1.Value.StringValue=$util.urlEncode($context.requestId)"
        "&MessageAttribute.1.Value.DataType=String"
    )
    variables = gateway('{"order": "o-1", "note": "a&b"}', context={"requestId": "r 1"})
    assert render(template, variables) == (
        "Action=SendMessage"
        "&MessageBody=%7B%22order%22%3A+%22o-1%22%2C+%22note%22%3A+%22a%26b%22%7D"
        "&MessageAttribute.1.Name=requestId"
        "&MessageAttribute.1.Value.StringValue=r+1"
        "&MessageAttribute.1.Value.DataType=String"
    )


def test_a_body_reshaped_into_a_dynamodb_put_item_with_a_list():
    # GIVEN a PutItem template that writes the request's tags as a DynamoDB list
    template = """#set($body = $input.path('$'))
{
  "TableName": "$stageVariables.table",
  "Item": {
    "id": {"S": "$input.params('id')"},
    "name": {"S": "$util.escapeJavaScript($body.name)"},
    "tags": {"L": [
#foreach($tag in $body.tags)
      {"S": "$tag"}#if($foreach.hasNext),#end

#end
    ]}
  }
}"""
    variables = gateway(
        '{"name": "Rex \\"the dog\\"", "tags": ["good", "loud"]}',
        path={"id": "pet-1"},
        stage={"table": "Pets"},
    )

    # WHEN it renders
    rendered = render(template, variables)

    # THEN the text is exactly what DynamoDB receives, and it is valid JSON
    assert (
        rendered
        == """{
  "TableName": "Pets",
  "Item": {
    "id": {"S": "pet-1"},
    "name": {"S": "Rex \\"the dog\\""},
    "tags": {"L": [
      {"S": "good"},
      {"S": "loud"}
    ]}
  }
}"""
    )
    assert json.loads(rendered)["Item"]["name"] == {"S": 'Rex "the dog"'}


def test_an_integration_response_turning_a_dynamodb_query_into_a_json_list():
    # The name goes through AWS's documented idiom: escapeJavaScript, then each \' back to '.
    name = """$util.escapeJavaScript($item.name.S).replaceAll("\\\\'", "'")"""
    template = (
        "#set($items = $input.path('$.Items'))\n"
        "[\n"
        "#foreach($item in $items)\n"
        f'  {{"id": "$item.id.S", "name": "{name}"}}#if($foreach.hasNext),#end\n'
        "\n"
        "#end\n"
        "]"
    )
    response = {
        "Count": 2,
        "Items": [
            {"id": {"S": "1"}, "name": {"S": "O'Brien"}},
            {"id": {"S": "2"}, "name": {"S": "Rex"}},
        ],
    }

    rendered = render(template, gateway(json.dumps(response)))

    assert rendered == ('[\n  {"id": "1", "name": "O\'Brien"},\n  {"id": "2", "name": "Rex"}\n]')
    assert json.loads(rendered) == [{"id": "1", "name": "O'Brien"}, {"id": "2", "name": "Rex"}]


def test_an_empty_query_result_renders_an_empty_list():
    template = "[#foreach($item in $input.path('$.Items'))$item.id.S#end]"
    assert render(template, gateway('{"Items": [], "Count": 0}')) == "[]"


def test_an_error_message_template_sets_the_status_and_shapes_the_body():
    template = """#set($context.responseOverride.status = 400)
{
  "message": $input.json('$.errorMessage'),
  "requestId": "$context.requestId"
}"""
    variables = gateway('{"errorMessage": "name is required"}', context={"requestId": "r-9"})

    rendered = render(template, variables)

    assert rendered == '{\n  "message": "name is required",\n  "requestId": "r-9"\n}'
    assert variables["context"]["responseOverride"]["status"] == 400


# -- errors ---------------------------------------------------------------------------------


def test_an_unclosed_if_is_an_error_that_points_at_the_if():
    with pytest.raises(VtlError, match=r"line 2, column 3: #if has no matching #end"):
        render("{\n  #if($a)\n  x\n}", {})


def test_an_unknown_directive_is_an_error():
    with pytest.raises(VtlError, match=r"line 1, column 4: unknown directive or macro #iff"):
        render("ab #iff($a)x#end", {})


def test_a_bad_expression_is_an_error_that_says_what_was_found():
    with pytest.raises(VtlError, match=r"line 1, column 11: expected an expression, found '\)'"):
        render("#if($a == )x#end", {})


def test_an_end_without_a_block_is_an_error():
    with pytest.raises(VtlError, match=r"line 1, column 2: #end without a matching #if"):
        render("x#end", {})


def test_else_inside_foreach_is_an_error():
    with pytest.raises(VtlError, match=r"#else is not allowed inside #foreach"):
        render("#foreach($a in [1])#else#end", {})


def test_an_unclosed_string_is_an_error():
    with pytest.raises(VtlError, match=r"line 1, column 11: string literal is not closed"):
        render("#set($a = 'oops)", {})


def test_a_set_without_an_equals_sign_is_an_error():
    with pytest.raises(VtlError, match=r"expected '=' in #set"):
        render("#set($a 1)", {})


def test_a_failing_method_is_an_error_that_says_where_and_what():
    with pytest.raises(VtlError, match=r"line 1, column 4: substring\(\) failed: begin 5"):
        render("$s.substring(5)", {"s": "abc"})


def test_an_unclosed_comment_is_an_error():
    with pytest.raises(VtlError, match=r"comment #\* is not closed"):
        render("a #* b", {})
