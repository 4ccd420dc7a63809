/* C++ exceptions and iostreams.
 * Exceptions: throw/catch across many frames (unwinding through .eh_frame of
 * every function in between), destructors run during unwinding (RAII order
 * printed), catch by base class, rethrow with `throw;`,
 * std::exception_ptr/rethrow_exception, nested exceptions, exceptions from
 * member constructors, std::out_of_range from vector::at, function-try
 * blocks, non-class exception types, 2000 throws in a loop.
 * iostreams (this is the one test program that links the large
 * iostream/locale machinery): std::cout/std::cerr (stderr is compared too),
 * manipulators (setw, setfill, left/right/internal, hex/oct/showbase,
 * fixed/scientific/setprecision, boolalpha), std::ostringstream/
 * istringstream parsing, std::getline, operator<< and >> for a user type,
 * std::endl flushing; printf and std::cout output interleave in program
 * order (sync_with_stdio is on by default).
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <cstdio>
#include <cstring>
#include <exception>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

static int failures;
#define CHECK(c)                                                   \
    do {                                                           \
        if (!(c)) {                                                \
            std::printf("FAIL line %d: %s\n", __LINE__, #c);       \
            failures++;                                            \
        }                                                          \
    } while (0)

static std::string trace;

struct Guard {
    std::string name;
    explicit Guard(std::string n) : name(std::move(n)) { trace += "+" + name; }
    ~Guard() { trace += "-" + name; }
};

struct MyError : std::runtime_error {
    int code;
    MyError(const std::string &what, int c) : std::runtime_error(what), code(c) {}
};
struct Derived : MyError {
    Derived() : MyError("derived error", 7) {}
};

__attribute__((noinline)) static int thrower(int depth, int when) {
    Guard g("f" + std::to_string(depth));
    if (depth == when) throw MyError("deep failure at " + std::to_string(depth), depth);
    return thrower(depth + 1, when) + 1;
}

struct Member {
    explicit Member(int v) {
        if (v < 0) throw std::invalid_argument("negative member");
        trace += "M";
    }
    ~Member() { trace += "~M"; }
};
struct Holder {
    Member a, b;
    Holder(int x, int y) : a(x), b(y) {}
};

static void may_throw_int(int v) {
    if (v) throw v;
}

static int ftb(int v) try {
    may_throw_int(v);
    return 0;
} catch (int e) {
    return e * 2;
}

static void exception_tests() {
    // Across frames with unwinding.
    try {
        thrower(0, 12);
        std::printf("not reached\n");
    } catch (const MyError &e) {
        std::printf("caught MyError '%s' code=%d\n", e.what(), e.code);
        CHECK(e.code == 12);
    }
    std::printf("trace: %s\n", trace.c_str());
    CHECK(trace.find("+f12-f12-f11") != std::string::npos && trace.substr(trace.size() - 3) == "-f0");
    // Catch by base, by std::exception.
    try {
        throw Derived();
    } catch (const std::exception &e) {
        std::printf("caught as std::exception: %s, is MyError: %d\n", e.what(),
                    dynamic_cast<const MyError *>(&e) != nullptr);
    }
    // Rethrow.
    int rethrown = 0;
    try {
        try {
            throw std::logic_error("first");
        } catch (std::logic_error &) {
            rethrown = 1;
            throw;
        }
    } catch (const std::exception &e) {
        std::printf("rethrown: %s (%d)\n", e.what(), rethrown);
        CHECK(std::strcmp(e.what(), "first") == 0);
    }
    // exception_ptr.
    std::exception_ptr ep;
    try {
        std::vector<int> v(3);
        v.at(10) = 1;
    } catch (...) {
        ep = std::current_exception();
    }
    try {
        std::rethrow_exception(ep);
    } catch (const std::out_of_range &e) {
        std::printf("out_of_range via exception_ptr: yes\n");
    }
    // Nested exceptions.
    try {
        try {
            throw std::runtime_error("inner");
        } catch (...) {
            std::throw_with_nested(std::runtime_error("outer"));
        }
    } catch (const std::exception &e) {
        std::printf("nested: %s", e.what());
        try {
            std::rethrow_if_nested(e);
        } catch (const std::exception &inner) {
            std::printf(" <- %s", inner.what());
        }
        std::printf("\n");
    }
    // Constructor failure: already-constructed members are destroyed.
    trace.clear();
    try {
        Holder h(1, -1);
    } catch (const std::invalid_argument &e) {
        std::printf("ctor failure: %s, trace=%s\n", e.what(), trace.c_str());
        CHECK(trace == "M~M");
    }
    // Non-class exception types and function-try-block.
    try {
        throw 3.5;
    } catch (int) {
        std::printf("wrong handler\n");
    } catch (double d) {
        std::printf("caught double %g\n", d);
    }
    try {
        throw "c string";
    } catch (const char *s) {
        std::printf("caught const char*: %s\n", s);
    }
    std::printf("function-try-block: %d %d\n", ftb(0), ftb(21));
    CHECK(ftb(21) == 42);
    // Many throws in a loop (exercise the unwinder caches).
    long sum = 0;
    for (int i = 0; i < 2000; i++) {
        try {
            sum += thrower(0, i % 5);
        } catch (const MyError &e) {
            sum += e.code;
        }
    }
    std::printf("loop of 2000 throws: sum=%ld\n", sum);
    CHECK(sum == 400 * (0 + 1 + 2 + 3 + 4));
    std::printf("uncaught_exceptions now: %d\n", std::uncaught_exceptions());
}

struct Point {
    int x, y;
};
static std::ostream &operator<<(std::ostream &os, const Point &p) { return os << '(' << p.x << ", " << p.y << ')'; }
static std::istream &operator>>(std::istream &is, Point &p) {
    char c1, c2, c3;
    return is >> c1 >> p.x >> c2 >> p.y >> c3;
}

static void iostream_tests() {
    std::cout << "hello from iostream" << std::endl;
    std::cerr << "a line on stderr" << std::endl;
    std::cout << "ints: " << 42 << ' ' << -7 << ' ' << 1234567890123LL << ' ' << 0u << '\n';
    std::cout << "hex: " << std::hex << 255 << ' ' << std::showbase << 255 << ' ' << std::uppercase << 48879
              << std::nouppercase << std::noshowbase << std::dec << '\n';
    std::cout << "oct: " << std::oct << 8 << ' ' << std::showbase << 64 << std::noshowbase << std::dec << '\n';
    std::cout << "width: [" << std::setw(8) << 42 << "] [" << std::left << std::setw(8) << 42 << std::right << "] ["
              << std::setfill('*') << std::setw(8) << -42 << std::setfill(' ') << "] [" << std::internal
              << std::setw(8) << -42 << std::right << "]\n";
    double vals[] = {3.14159265358979, 1e-10, 123456789.125, -0.5, 1e300};
    for (double d : vals) {
        std::cout << "double: default=" << d << " fixed=" << std::fixed << std::setprecision(3) << d
                  << " sci=" << std::scientific << std::setprecision(4) << d << std::defaultfloat
                  << " prec10=" << std::setprecision(10) << d << std::setprecision(6) << '\n';
    }
    std::cout << "bool: " << true << ' ' << std::boolalpha << true << ' ' << false << std::noboolalpha << '\n';
    std::cout << "char/string: " << 'x' << ' ' << std::string("std::string") << ' ' << "literal" << '\n';
    Point p{3, -4};
    std::cout << "user type: " << p << '\n';
    // ostringstream
    std::ostringstream os;
    os << "pi~" << std::setprecision(4) << 3.14159 << ";n=" << 17;
    std::cout << "ostringstream: " << os.str() << '\n';
    CHECK(os.str() == "pi~3.142;n=17");
    // istringstream parsing
    std::istringstream is("10 20.5 word (7, 8) 0x1f");
    int i = 0;
    double d = 0;
    std::string w;
    Point q{0, 0};
    int h = 0;
    is >> i >> d >> w >> q >> std::hex >> h;
    std::cout << "parsed: i=" << i << " d=" << d << " w=" << w << " q=" << q << " h=" << h << '\n';
    CHECK(i == 10 && d == 20.5 && w == "word" && q.x == 7 && q.y == 8 && h == 31);
    // getline over multiple lines
    std::istringstream lines("first line\nsecond, with comma\n\nfourth");
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) std::cout << "line " << ++count << ": '" << line << "'\n";
    CHECK(count == 4);
    // failure state
    std::istringstream bad("abc");
    int x = 5;
    bad >> x;
    std::cout << "bad parse: fail=" << bad.fail() << " x=" << x << '\n';
    // many numbers
    std::ostringstream big;
    for (int k = 0; k < 1000; k++) big << k * k << ',';
    std::cout << "big stream length " << big.str().size() << '\n';
    std::cerr << "stderr done" << '\n';
}

int main() {
    exception_tests();
    iostream_tests();
    std::cout << "cxx_exceptions done, failures=" << failures << std::endl;
    return failures ? 1 : 0;
}
